/**
 * The Node.js flags FST's daemons (fst-master, fst-chunkserver, fst-mount, fst-gateway) run with.
 * V8 flags that size the heap must be given when node starts (node refuses them in NODE_OPTIONS,
 * and v8.setFlagsFromString is too late), so every way a daemon starts passes them: the bin scripts'
 * shebang (`env -S`: systemd units with npm's shims, a shell), the units install-units writes
 * (toolCommand), `npm start`, and the tests' daemon helper.
 *
 * --initial-old-space-size=128: V8 sizes the old generation's limit from the live heap, which is
 * small in these daemons (12 MB in a chunkserver, 40 MB in a mount), so the limit sat within a
 * young generation's size of it and incremental marking started again as soon as it ended: about
 * 10 full collections a second under load, whatever the load, and more CPU in GC than in FST's own
 * code. With 128 MiB to begin with, a chunkserver serving 4 KiB random reads ran 15 instead of
 * 120 full collections over the same work, its CPU per read fell from about 700 to 460 us (the
 * mount's from 720 to 400 us), at about 60 MB more resident memory per daemon.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];

/** The bin scripts that are daemons (they start with DAEMON_NODE_FLAGS). */
export const DAEMON_BINS: readonly string[] = ['fst-master', 'fst-chunkserver', 'fst-mount', 'fst-gateway'];
