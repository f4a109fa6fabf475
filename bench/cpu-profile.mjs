// Preloaded into the FST daemons with NODE_OPTIONS="--import <this file>" when a benchmark runs with
// FST_BENCH_CPU_PROF=DIR (node refuses --cpu-prof in NODE_OPTIONS): profiles the whole process
// with the V8 sampler and writes DIR/<program>-<pid>.cpuprofile when it exits normally (SIGTERM
// and a clean stop; not kill -9). Open the file in Chrome DevTools or speedscope; the samples'
// clock is CLOCK_MONOTONIC in microseconds, the one the benchmark's progress lines print.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, join } from 'node:path';

const dir = process.env.FST_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  // The in-process session answers synchronously, so this completes inside the exit handler.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (err || !res) return;
      const name = `${basename(process.argv[1] ?? 'node', '.js')}-${process.pid}.cpuprofile`;
      writeFileSync(join(dir, name), JSON.stringify(res.profile));
    });
  });
}
