// The soak's report: var/soak/report.md, and the timeline as report.svg (gnuplot):
// requests, errors and p99 latency per second with the fault windows marked.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const sec = (ms) => (ms / 1000).toFixed(1);

function chart(dir, series, faults, t0) {
  const data = path.join(dir, 'report.dat');
  fs.writeFileSync(data, series.map((r) => `${r.s} ${r.n} ${r.errors} ${r.p99}`).join('\n') + '\n');
  const rects = faults.map((f, i) => `set object ${i + 1} rect from ${sec(f.start - t0)}, graph 0 to ${sec(f.end - t0)}, graph 1 `
    + 'fc rgb "#f4b183" fs transparent solid 0.35 noborder behind');
  const labels = faults.map((f, i) => `set label ${i + 1} "${f.short}" at ${sec(f.start - t0)}, graph 0.97 font ",8" front`);
  const script = [
    `set terminal svg size 1100,520 dynamic font "sans,11" background "#ffffff"`,
    `set output "${path.join(dir, 'report.svg')}"`,
    'set title "Soak: requests, errors and p99 latency per second (shaded: faults)"',
    'set xlabel "seconds"',
    'set ylabel "requests / errors per second"',
    'set y2label "p99 latency (ms)"',
    'set ytics nomirror', 'set y2tics', 'set grid', 'set key outside bottom center horizontal',
    ...rects, ...labels,
    `plot "${data}" using 1:2 with lines lw 1.5 lc rgb "#2f5597" title "requests/s", `
      + `"" using 1:3 with impulses lw 2 lc rgb "#c00000" title "errors/s", `
      + `"" using 1:4 axes x1y2 with lines lw 1 lc rgb "#548235" title "p99 ms"`,
  ].join('\n');
  const res = spawnSync('gnuplot', [], { input: script, encoding: 'utf8' });
  fs.rmSync(data, { force: true });
  return res.status === 0;
}

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function writeReport(dir, r) {
  const svg = chart(dir, r.series, r.faults, r.t0);
  const lines = [
    `# Soak report — ${r.started}`,
    '',
    `${r.seconds} s of mixed load from ${r.users} users (${r.workers}) through HAProxy in front of two frontend, two`
      + ` product and two auth replicas and one recommendation, on ${r.machine}; ${r.build} build.`,
    `Verdict: **${r.passed ? 'PASS' : 'FAIL'}**${r.passed ? '' : ` — ${r.failures.join('; ')}`}.`,
    '',
    '## Faults',
    '',
    table(['at (s)', 'fault', 'lasted (s)', 'errors', 'recovery after heal (s)', 'errors by request and answer'],
      r.faults.map((f) => [sec(f.start - r.t0), f.name, sec(f.end - f.start), String(f.errors), sec(f.recoveryMs),
        [...f.kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`).join(', ') || '—'])),
    '',
    '("+RA": the answer carried Retry-After.) The first answer of each kind:',
    '',
    ...r.faults.flatMap((f) => [...f.samples].map(([k, body]) => `- ${f.short}, ${k}: \`${body.replace(/[`\n]/g, ' ').slice(0, 120)}\``)),
    '',
    `Errors counted in a fault's window run from its start to ${sec(r.graceMs)} s after it healed.`,
    `Errors outside every window: ${r.errors.outside.length}; errors other than 503/429 with Retry-After: ${r.errors.undocumented.length}.`,
    ...r.errors.undocumented.slice(0, 10).map((e) => `- ${e.kind} at ${sec(e.start - r.t0)} s: ${e.status || e.error}${e.retryAfter ? ' (Retry-After)' : ''}`),
    ...r.errors.outside.slice(0, 10).map((e) => `- outside: ${e.kind} at ${sec(e.start - r.t0)} s: ${e.status || e.error}`),
    '',
    '## Throughput',
    '',
    table(['request', 'count', 'per second', 'errors', 'p50 (ms)', 'p99 (ms)'],
      r.kinds.map((k) => [k.kind, String(k.n), k.rate.toFixed(1), String(k.errors), String(k.p50), String(k.p99)])),
    '',
    '## Audit',
    '',
    `- Acknowledged votes and withdrawals: ${r.votes.acknowledged}; final (user, origami) states checked against the`
      + ` votes table: ${r.votes.checked}; lost: ${r.votes.lost.length}; present although withdrawn: ${r.votes.phantom.length}.`,
    `- Counters equal to rows: ${r.counters.ok ? 'yes' : `no (${r.counters.bad.join(', ')})`}, for ${r.counters.products} origami.`,
    `- Counts served after the run equal the database: ${r.served.ok ? 'yes' : `no (${r.served.bad.join(', ')})`}.`,
    `- Reads judged against the votes acknowledged before them: ${r.stale.judged}; stale: ${r.stale.stale.length}.`,
    `- Processes that died without being told to: ${r.crashes.length ? r.crashes.join(', ') : 'none'}.`,
    `- Sanitizer reports (the logs are read again after the final stop, for LeakSanitizer): ${r.sanitizer.length}.`,
    ...r.sanitizer.slice(0, 10).map((l) => `  - \`${l.slice(0, 160)}\``),
    '',
    '## Footprint (load held: at the end of the warm-up, and after the run; a restarted process is compared with the one it replaced)',
    '',
    table(['process', 'RSS before (kB)', 'RSS after (kB)', 'growth', 'fds before (sockets)', 'fds after (sockets)', 'growth',
      'growth of other fds', 'verdict'],
      r.growth.map((g) => [g.name, String(g.before.rss), String(g.after.rss), `${(g.rss * 100).toFixed(1)} %`,
        `${g.before.fds} (${g.before.sockets})`, `${g.after.fds} (${g.after.sockets})`, `${(g.fds * 100).toFixed(1)} %`,
        `${(g.others * 100).toFixed(1)} %`, g.ok ? 'ok' : '**grew**'])),
    '',
    'RSS and the descriptors that are not sockets must grow by less than 10 %; sockets are connections, whose',
    'number follows the pools and keep-alive peers of the moment within configured bounds (a leak fails',
    `only past 32 more).${r.build === 'release' ? '' : ' Under AddressSanitizer RSS is shown, not judged: freed memory waits in its quarantine.'}`,
    '',
    svg ? '![timeline](report.svg)' : '(gnuplot is missing: no chart)',
    '',
  ];
  const text = lines.join('\n');
  fs.writeFileSync(path.join(dir, 'report.md'), text);
  // A dated copy (var/soak/YYYY-MM-DD-HHMM[-sanitize].md and .svg) to keep with the
  // runs quoted elsewhere: copy it to soak/results/.
  const stamp = `${r.started.slice(0, 10)}-${r.started.slice(11, 13)}${r.started.slice(14, 16)}${r.build === 'release' ? '' : '-sanitize'}`;
  fs.writeFileSync(path.join(dir, `${stamp}.md`), text.replace('](report.svg)', `](${stamp}.svg)`));
  if (svg) fs.copyFileSync(path.join(dir, 'report.svg'), path.join(dir, `${stamp}.svg`));
  return text;
}
