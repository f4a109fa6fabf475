// The cluster overview: polls GET /api/status every 2 s while the view is shown and hands each
// answer to the panels, which update in place. When the gateway cannot produce a status (503:
// the master is unreachable or the credential may not read it) the last figures stay on screen
// under a banner, polling goes on, and the banner goes once an answer arrives.
/* global AbortController, window */
import { getJson, isAbort } from './api.js';
import { byId, h, setText, show } from './dom.js';
import { formatClock, sentence } from './format.js';
import { renderSummary } from './summary-cards.js';
import { renderHealth } from './health-panel.js';
import { renderRebalance, renderReplication } from './movement-panels.js';
import { createOpsPanel } from './ops-panel.js';
import { createServersTable } from './servers-table.js';

const POLL_INTERVAL_MS = 2_000;
const POLL_TIMEOUT_MS = 5_000;

/** The banner's content for a failed poll. */
function bannerContent(error, lastUpdateMs) {
  const title = error.status === 503 ? 'Cluster status unavailable.' : 'Cannot load the cluster status.';
  const stale = lastUpdateMs === null ? '' : ` The figures below are from ${formatClock(lastUpdateMs)}.`;
  return [
    h('strong', { text: title }),
    ` ${sentence(error.message)} Retrying every ${POLL_INTERVAL_MS / 1000} s.${stale}`,
  ];
}

/** The overview view: `show()` starts polling, `hide()` stops it. */
export function createOverview() {
  const section = byId('view-overview');
  const banner = byId('status-banner');
  const updated = byId('overview-updated');
  const renderOps = createOpsPanel();
  const renderServers = createServersTable();

  let running = false;
  let timer = null;
  let inFlight = null; // AbortController of the poll under way
  let lastUpdateMs = null;

  function render(status) {
    renderSummary(status);
    renderHealth(status);
    renderReplication(status);
    renderRebalance(status);
    renderOps(status);
    renderServers(status);
    lastUpdateMs = Date.now();
    setText(updated, `Updated ${formatClock(lastUpdateMs)}`);
  }

  function showError(error) {
    banner.replaceChildren(...bannerContent(error, lastUpdateMs));
    show(banner, true);
  }

  async function poll() {
    timer = null;
    const controller = new AbortController();
    inFlight = controller;
    try {
      const status = await getJson('/api/status', { signal: controller.signal, timeoutMs: POLL_TIMEOUT_MS });
      show(banner, false);
      render(status);
    } catch (error) {
      // An abort means the view was hidden; a 401 has already brought up the sign-in form.
      if (isAbort(error) || error.status === 401) return;
      showError(error);
    } finally {
      // A poll that was stopped (and perhaps replaced by a newer one) schedules nothing.
      if (inFlight === controller) {
        inFlight = null;
        if (running) timer = window.setTimeout(() => void poll(), POLL_INTERVAL_MS);
      }
    }
  }

  function start() {
    if (running) return;
    running = true;
    void poll();
  }

  function stop() {
    running = false;
    if (timer !== null) window.clearTimeout(timer);
    timer = null;
    inFlight?.abort();
  }

  return { section, show: start, hide: stop };
}
