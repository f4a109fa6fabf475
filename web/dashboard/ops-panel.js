// The operations panel: cluster-wide rates from /api/status `ops`, plus two sparklines. Rates
// are null until the gateway has two samples to compare, and then read "—".
import { byId, fillStats } from './dom.js';
import { formatByteRate, formatRate } from './format.js';
import { createSparkline } from './sparkline.js';

/** The sum of the rates given, or null when none is known yet. */
function sumKnown(...rates) {
  const known = rates.filter((rate) => typeof rate === 'number' && Number.isFinite(rate));
  return known.length === 0 ? null : known.reduce((total, rate) => total + rate, 0);
}

/** Builds the panel's charts; returns `render(status)`. */
export function createOpsPanel() {
  const masterChart = createSparkline(byId('spark-master'), {
    describe: (latest, peak) => (latest === null
      ? 'Master calls per second: no samples yet'
      : `Master calls per second: now ${formatRate(latest)}, peak ${formatRate(peak)}`),
  });
  const bytesChart = createSparkline(byId('spark-bytes'), {
    describe: (latest, peak) => (latest === null
      ? 'Chunkserver bytes per second: no samples yet'
      : `Chunkserver bytes per second: now ${formatByteRate(latest)}, peak ${formatByteRate(peak)}`),
  });

  return function render(status) {
    const ops = status.ops ?? {};
    fillStats(byId('ops-stats'), {
      masterCallsPerSec: formatRate(ops.masterCallsPerSec),
      gatewayRequestsPerSec: formatRate(ops.gatewayRequestsPerSec),
      readsPerSec: formatRate(ops.readsPerSec),
      writesPerSec: formatRate(ops.writesPerSec),
      readBytesPerSec: formatByteRate(ops.readBytesPerSec),
      writeBytesPerSec: formatByteRate(ops.writeBytesPerSec),
    });
    masterChart.push(ops.masterCallsPerSec);
    bytesChart.push(sumKnown(ops.readBytesPerSec, ops.writeBytesPerSec));
  };
}
