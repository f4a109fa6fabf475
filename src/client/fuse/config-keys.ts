/**
 * Every configuration key of fst-mount: its flag (`--<name>`), config file key (`<name> = ...`)
 * and environment variable (`FST_<NAME>`). docs/CONFIG.md is generated from this table. The
 * command line may also give `master` and `mountpoint` as arguments, or fstab-style `-o` options.
 */
import type { ConfigSchema } from '../../common/config/config-schema.js';
import { CREDENTIALS_KEY, LOG_LEVEL_KEY, METRICS_LISTEN_KEY } from '../../common/config/common-keys.js';

export const MOUNT_CONFIG_KEYS: ConfigSchema = [
  { name: 'master', type: 'host-port-list', required: true, description: 'master address, or several separated by commas (the active one is followed; also the first argument, or -o master=HOST:PORT)' },
  { name: 'mountpoint', type: 'path', default: '/mnt/fst', placeholder: 'dir', description: 'directory to mount on (also the last argument)' },
  { name: 'foreground', short: 'f', type: 'bool', default: false, description: 'stay in the foreground instead of detaching once mounted' },
  { name: 'allow-other', type: 'bool', default: false, description: 'let other users use the mount (needs user_allow_other in /etc/fuse.conf for non-root)' },
  {
    name: 'master-timeout', type: 'non-negative-number', default: 60, placeholder: 'seconds',
    description: 'how long calls wait for an unreachable master or chunkserver before failing with EIO',
  },
  { name: 'entry-timeout', type: 'non-negative-number', default: 1, placeholder: 'seconds', description: 'how long names are cached (by the kernel and fst-mount)' },
  {
    name: 'attr-timeout', type: 'non-negative-number', default: 1, placeholder: 'seconds',
    description: 'how long the kernel caches attributes (at most entry-timeout; 0: every stat asks fst-mount, which caches them per inode)',
  },
  {
    name: 'delegate-dirs', type: 'bool', default: true,
    description: 'take directories this mount changes from the master while nobody else uses them, and answer mkdir, symlink, unlink, rmdir and rename in them at once (sent in batches; fsync or fsyncdir waits for them)',
  },
  {
    name: 'request-poll', type: 'non-negative-number', default: 200, placeholder: 'microseconds',
    description: 'after answering every FUSE request it had at once, keep reading for the next for this long before sleeping (a program walking a tree or writing in pieces asks again within tens of microseconds); 0: sleep at once. Off with one CPU',
  },
  { name: 'cache-size', type: 'non-negative-number', default: 256, placeholder: 'MiB', description: 'read cache shared by all open files, in MiB' },
  { name: 'read-ahead', type: 'non-negative-number', default: 32, placeholder: 'MiB', description: 'largest read-ahead window per open file, in MiB' },
  {
    name: 'writeback-budget', type: 'non-negative-number', default: 512, placeholder: 'MiB',
    description: 'most unwritten data buffered by the mount (all open files together), in MiB; writes wait beyond it',
  },
  CREDENTIALS_KEY,
  LOG_LEVEL_KEY,
  METRICS_LISTEN_KEY,
];
