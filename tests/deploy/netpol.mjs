// netpol.mjs - NetworkPolicy as Kubernetes evaluates it, for pods described by
// {namespace, nsLabels, labels, ports: [{name, containerPort, protocol}]}.
//
// A connection from pod A to port P of pod B is allowed when (1) no Ingress
// policy selects B, or one of those that do has a rule admitting A on P, and (2)
// no Egress policy selects A, or one of those has a rule letting it reach B on P.
// Peers: podSelector (same namespace as the policy), namespaceSelector, both
// (the pod must match both); an ipBlock never matches a pod.

export function selectorMatches(sel, labels) {
  if (!sel) return false;
  const ml = sel.matchLabels ?? {};
  if (!Object.entries(ml).every(([k, v]) => labels[k] === v)) return false;
  return (sel.matchExpressions ?? []).every((e) => {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In': return has && e.values.includes(labels[e.key]);
      case 'NotIn': return !has || !e.values.includes(labels[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
}

function types(policy) {
  if (policy.spec?.policyTypes) return policy.spec.policyTypes;
  return policy.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

const selects = (policy, pod) =>
  (policy.metadata?.namespace ?? pod.namespace) === pod.namespace && selectorMatches(policy.spec?.podSelector ?? {}, pod.labels);

function peerMatches(peer, policyNs, pod) {
  if (peer.ipBlock) return false;
  const nsOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, pod.nsLabels) : pod.namespace === policyNs;
  const podOk = peer.podSelector ? selectorMatches(peer.podSelector, pod.labels) : true;
  return nsOk && podOk;
}

// Does a rule's port list admit `port` ({containerPort, name, protocol}) of the target?
function portMatches(ports, port) {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== (port.protocol ?? 'TCP')) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return p.port === port.name;
    const end = p.endPort ?? p.port;
    return port.containerPort >= p.port && port.containerPort <= end;
  });
}

function admits(policies, direction, self, other, port) {
  const key = direction === 'Ingress' ? 'ingress' : 'egress';
  const peersKey = direction === 'Ingress' ? 'from' : 'to';
  const relevant = policies.filter((p) => types(p).includes(direction) && selects(p, self));
  if (relevant.length === 0) return true;
  return relevant.some((p) =>
    (p.spec[key] ?? []).some((rule) => {
      const peers = rule[peersKey];
      const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, p.metadata?.namespace ?? self.namespace, other));
      return peerOk && portMatches(rule.ports, port);
    }),
  );
}

// May `from` open a connection to `port` (one of to.ports) of `to`?
export function allowed(policies, from, to, port) {
  return admits(policies, 'Ingress', to, from, port) && admits(policies, 'Egress', from, to, port);
}

// Is `from` restricted in what it may reach (some Egress policy selects it)?
export function egressRestricted(policies, from) {
  return policies.some((p) => types(p).includes('Egress') && selects(p, from));
}
