// The chunk-health panel. The gateway recomputes health less often than it polls the master,
// so `health` may be null (not computed yet): the panel then says "checking…". When any chunk
// is not healthy the panel turns amber (redundancy reduced) or red (data missing or corrupt).
import { byId, fillStats, setAttr, setText, show } from './dom.js';
import { formatAge, formatCount } from './format.js';

/** Problems in the order they are listed, with the level each one raises. */
const PROBLEMS = [
  { key: 'missing', label: 'missing', level: 'bad' },
  { key: 'corruptReported', label: 'corrupt reported', level: 'bad' },
  { key: 'underReplicated', label: 'under-replicated', level: 'warn' },
  { key: 'stale', label: 'stale', level: 'warn' },
  { key: 'staleReplicas', label: 'stale replicas', level: 'warn' },
  { key: 'overReplicated', label: 'over-replicated', level: 'warn' },
];

/** The worst level among the problems present: "ok", "warn" or "bad". */
function healthLevel(health) {
  let level = 'ok';
  for (const problem of PROBLEMS) {
    if (health[problem.key] > 0) {
      if (problem.level === 'bad') return 'bad';
      level = 'warn';
    }
  }
  return level;
}

/** One sentence: "All 1,204 chunks are healthy." or "3 missing · 12 under-replicated". */
function healthSentence(health) {
  const present = PROBLEMS.filter((problem) => health[problem.key] > 0);
  if (present.length === 0) {
    return health.healthy > 0 ? `All ${formatCount(health.healthy)} chunks are healthy.` : 'No chunks yet.';
  }
  return present.map((problem) => `${formatCount(health[problem.key])} ${problem.label}`).join(' · ');
}

/** Fills the panel from one /api/status answer. */
export function renderHealth(status) {
  const panel = byId('health');
  const summary = byId('health-summary');
  const stats = byId('health-stats');
  const health = status.health;

  if (!health) {
    setAttr(panel, 'data-health', 'unknown');
    setText(summary, 'checking…');
    setText(byId('health-time'), '');
    show(stats, false);
    return;
  }

  setAttr(panel, 'data-health', healthLevel(health));
  setText(summary, healthSentence(health));
  const checked = formatAge(status.healthTime, status.time);
  setText(byId('health-time'), checked === '—' ? '' : `checked ${checked}`);

  const values = { healthy: formatCount(health.healthy) };
  for (const problem of PROBLEMS) {
    const count = health[problem.key];
    values[problem.key] = { text: formatCount(count), level: count > 0 ? problem.level : null };
  }
  fillStats(stats, values);
  show(stats, true);
}
