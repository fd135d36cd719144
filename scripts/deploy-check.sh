#!/usr/bin/env bash
# Offline checks of the deployment files; needs no Docker engine and no cluster.
#
#   scripts/deploy-check.sh      (make deploy-check; make test runs it too)
#
# 1. docker-compose.yml through `docker compose config` (or Debian's docker-compose):
#    it must print no error and no warning.
# 2. tests/deploy/check.mjs: each overlay of deploy/k8s rendered by `kubectl
#    kustomize` and checked (schemas, references, pod security, probes against the
#    services' route tables, variables against what the services read, pinned
#    images, autoscaling within PostgreSQL's connections, NetworkPolicies, the
#    Ingress, the collector, Jaeger's bound); the Dockerfile; compose's wiring.
# 3. tests/deploy/mutate.mjs: realistic mistakes injected one at a time into a copy
#    must each fail step 2 with a message naming them; the unmutated copy passes.
# Installs what is missing: Debian's docker-compose and kubernetes-client (kubectl),
# the Node packages of tests/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"
cd "$CRAFT_REPO"

# kubectl for `kubectl kustomize`: any that is installed, else Debian's
# kubernetes-client (kubectl 1.20 with kustomize 2.0.3, which the overlays are
# written for). No cluster is contacted.
kubectl_ready() {
	command -v "${KUBECTL:-kubectl}" >/dev/null 2>&1 || apt_install kubernetes-client
	command -v "${KUBECTL:-kubectl}" >/dev/null 2>&1 || die "kubectl is missing after installing kubernetes-client"
}

# The Node packages the manifest checks use, from tests/package-lock.json.
node_packages() {
	command -v node >/dev/null 2>&1 || die "node is missing (scripts/deps.sh --test installs it)"
	if (cd tests && node --input-type=module \
		-e 'await import("kubernetes-models/v1"); await import("yaml")') >/dev/null 2>&1; then
		return 0
	fi
	say "installing the Node packages of tests/"
	(cd tests && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >&2
}

check_compose() {
	local cmd out err noenv rc=0
	cmd=$(compose_cmd)
	err=$(mktemp)
	noenv=$(mktemp)
	# Defaults only: a developer's .env must not change what is checked.
	out=$($cmd --env-file "$noenv" -f docker-compose.yml config -q 2>"$err") || rc=$?
	if ((rc != 0)) || [[ -s $err || -n $out ]]; then
		printf 'not ok - %s config\n' "$cmd"
		sed 's/^/    /' "$err"
		[[ -z $out ]] || printf '    %s\n' "$out"
		rc=1
	else
		printf 'ok - %s config: docker-compose.yml is valid\n' "$cmd"
	fi
	rm -f "$err" "$noenv"
	return "$rc"
}

main() {
	local rc=0
	check_compose || rc=1
	node_packages
	kubectl_ready
	node tests/deploy/check.mjs "$CRAFT_REPO" || rc=1
	node tests/deploy/mutate.mjs "$CRAFT_REPO" || rc=1
	if ((rc != 0)); then
		say "deploy-check: FAILED"
	else
		say "deploy-check: every check passed"
	fi
	return "$rc"
}

main "$@"
