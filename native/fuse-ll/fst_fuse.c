/*
 * fst_fuse: a Node-API binding of libfuse3's low-level (inode-based) API, written for fst-mount.
 *
 * Why not a high-level binding (fuse-native): the path API gives each name of a hard link its own
 * kernel inode, has no readdirplus and no per-entry cache timeouts, blocks one libfuse thread per
 * request in flight, and renames files removed while open to `.fuse_hidden*`. The low-level API
 * hands over inode numbers (FST's own: FUSE's root id 1 is FST's root), lets every reply say how
 * long the kernel may cache it, and lets a reply come at any time.
 *
 * Threads: none for requests. The FUSE device is non-blocking and polled by Node's event loop; when
 * it is readable, the JS thread reads every queued request and libfuse's dispatch calls the
 * callbacks below, which call JavaScript at once (one wakeup of one thread per batch of requests,
 * no hand-off between threads), and keeps reading briefly when all were answered (on_readable).
 * JavaScript answers by calling the reply functions, which write to /dev/fuse. Kernel notifications
 * that can wait on inode locks held by requests in flight (entry and data invalidation) are written
 * by a notifier thread, so that the JS thread can never deadlock against the kernel; attribute-only
 * invalidation takes no lock and is written directly.
 *
 * A request handle travels to JavaScript as a number (the fuse_req_t pointer): JavaScript must
 * answer each exactly once (src/client/fuse/lowlevel.ts guarantees it). After the session closed,
 * replies are dropped.
 */
#define FUSE_USE_VERSION 34
#define _GNU_SOURCE
#include <fuse_lowlevel.h>
#include <node_api.h>
#include <uv.h>
#include <fcntl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHECK(call)                                                                    \
  do {                                                                                 \
    napi_status st_ = (call);                                                          \
    if (st_ != napi_ok) {                                                              \
      napi_throw_error(env, NULL, "fst_fuse: N-API call failed: " #call);              \
      return NULL;                                                                     \
    }                                                                                  \
  } while (0)

/* Operation codes shared with lowlevel.ts (keep in step with its `Op` table). */
enum op {
  OP_LOOKUP = 1, OP_GETATTR, OP_SETATTR, OP_READLINK, OP_MKNOD, OP_MKDIR, OP_UNLINK, OP_RMDIR,
  OP_SYMLINK, OP_RENAME, OP_LINK, OP_OPEN, OP_READ, OP_WRITE, OP_FLUSH, OP_RELEASE, OP_FSYNC,
  OP_OPENDIR, OP_READDIR, OP_READDIRPLUS, OP_RELEASEDIR, OP_FSYNCDIR, OP_STATFS, OP_SETXATTR,
  OP_GETXATTR, OP_LISTXATTR, OP_REMOVEXATTR, OP_ACCESS, OP_CREATE, OP_FORGET, OP_INTERRUPT,
  OP_FALLOCATE, OP_GETLK, OP_SETLK, OP_FLOCK,
  OP_NOTIFY_DONE = 98, OP_EXIT = 99
};

/* Where a directory's listing ended, by inode, for sessions without opendir (see ll_opendir). */
#define DIR_END_SLOTS 4096
struct dir_end {
  uint64_t ino;
  int64_t off;
};

/* A kernel notification for the notifier thread. */
struct notice {
  int kind; /* 1: inval_entry, 2: inval_inode (data), 3: delete */
  uint64_t parent;
  uint64_t ino;
  int64_t off;
  int64_t len;
  char *name;
  double token;
  struct notice *next;
};

struct session {
  struct fuse_session *se;
  napi_env env;
  napi_ref dispatch;
  napi_async_context actx;
  uv_poll_t poll;
  struct fuse_buf buf;
  int polling;
  int closed;   /* no reply goes out any more */
  int exited;   /* the connection ended (unmounted) */
  unsigned want;
  int no_opendir; /* the kernel opens and closes directories without asking (see ll_opendir) */
  int64_t poll_ns;   /* how long to keep reading the device after a burst (see on_readable); 0: never */
  unsigned pending;  /* requests handed to JavaScript and not answered yet */
  struct dir_end dir_ends[DIR_END_SLOTS];
  unsigned max_write;
  unsigned max_readahead;
  /* notifier thread and its queue; completions come back through notify_tsfn */
  napi_threadsafe_function notify_tsfn;
  pthread_t notifier;
  int notifier_started;
  pthread_mutex_t nlock;
  pthread_cond_t ncond;
  struct notice *nhead, *ntail;
  int nstop;
};

/* A finished notification, for the JS thread. */
struct notice_done {
  double token;
  double err;
};

/* ------------------------------------------------------------------ requests -> JavaScript */

/*
 * Calls dispatch(op, req, uid, gid, pid, a0..a7, name, name2, data) at once, on the JS thread
 * (we are inside libfuse's dispatch, called from the poll callback). `data` is copied into a new
 * Buffer: the receive buffer is reused for the next request.
 */
static void call(int op, fuse_req_t req, const double *a, int na, const char *name, const char *name2, const void *data, size_t len) {
  struct session *s = fuse_req_userdata(req);
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) { fuse_reply_err(req, EIO); return; }
  napi_value argv[16];
  napi_value undef;
  napi_get_undefined(env, &undef);
  const struct fuse_ctx *ctx = fuse_req_ctx(req);
  napi_create_int32(env, op, &argv[0]);
  napi_create_double(env, (double)(uintptr_t)req, &argv[1]);
  napi_create_uint32(env, ctx->uid, &argv[2]);
  napi_create_uint32(env, ctx->gid, &argv[3]);
  napi_create_int32(env, ctx->pid, &argv[4]);
  for (int i = 0; i < 8; i++) {
    if (i < na) napi_create_double(env, a[i], &argv[5 + i]);
    else argv[5 + i] = undef;
  }
  if (name) napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &argv[13]); else argv[13] = undef;
  if (name2) napi_create_string_utf8(env, name2, NAPI_AUTO_LENGTH, &argv[14]); else argv[14] = undef;
  if (data) {
    void *copy = NULL;
    if (napi_create_buffer_copy(env, len, data, &copy, &argv[15]) != napi_ok) argv[15] = undef;
  } else {
    argv[15] = undef;
  }
  napi_value fn, global;
  napi_get_reference_value(env, s->dispatch, &fn);
  napi_get_global(env, &global);
  s->pending++;
  napi_status st = napi_make_callback(env, s->actx, global, fn, 16, argv, NULL);
  if (st == napi_pending_exception) {
    /* dispatch catches everything it can; what escapes is a bug: let Node report it. */
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

#define D(x) ((double)(x))

static void ll_init(void *userdata, struct fuse_conn_info *conn) {
  struct session *s = userdata;
  /* Exactly what JavaScript asked for, of what the kernel offers (libfuse's defaults are off). */
  conn->want = s->want & conn->capable;
  s->no_opendir = (conn->want & FUSE_CAP_NO_OPENDIR_SUPPORT) != 0;
  if (s->max_write) conn->max_write = s->max_write;
  if (s->max_readahead) conn->max_readahead = s->max_readahead;
  conn->max_background = 64;
  conn->congestion_threshold = 48;
}

static double fh_of(struct fuse_file_info *fi) { return fi ? D(fi->fh) : -1; }

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  double a[] = { D(parent) };
  call(OP_LOOKUP, req, a, 1, name, NULL, NULL, 0);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  (void)ino; (void)nlookup;
  fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
  (void)count; (void)forgets;
  fuse_reply_none(req);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  double a[] = { D(ino), fh_of(fi) };
  call(OP_GETATTR, req, a, 2, NULL, NULL, NULL, 0);
}

/* setattr: a0 ino, a1 fh, a2 to_set, a3 mode, a4 uid, a5 gid, a6 size; data: 4 doubles (atime s, ns, mtime s, ns). */
static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
  double a[] = { D(ino), fh_of(fi), D(to_set), D(attr->st_mode), D(attr->st_uid), D(attr->st_gid), D(attr->st_size) };
  double t[] = { D(attr->st_atim.tv_sec), D(attr->st_atim.tv_nsec), D(attr->st_mtim.tv_sec), D(attr->st_mtim.tv_nsec) };
  call(OP_SETATTR, req, a, 7, NULL, NULL, t, sizeof t);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino) {
  double a[] = { D(ino) };
  call(OP_READLINK, req, a, 1, NULL, NULL, NULL, 0);
}

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
  double a[] = { D(parent), D(mode), D(rdev) };
  call(OP_MKNOD, req, a, 3, name, NULL, NULL, 0);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  double a[] = { D(parent), D(mode) };
  call(OP_MKDIR, req, a, 2, name, NULL, NULL, 0);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  double a[] = { D(parent) };
  call(OP_UNLINK, req, a, 1, name, NULL, NULL, 0);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  double a[] = { D(parent) };
  call(OP_RMDIR, req, a, 1, name, NULL, NULL, 0);
}

/* symlink: name is the new entry, name2 the link's target. */
static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
  double a[] = { D(parent) };
  call(OP_SYMLINK, req, a, 1, name, link, NULL, 0);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname, unsigned int flags) {
  double a[] = { D(parent), D(newparent), D(flags) };
  call(OP_RENAME, req, a, 3, name, newname, NULL, 0);
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
  double a[] = { D(ino), D(newparent) };
  call(OP_LINK, req, a, 2, newname, NULL, NULL, 0);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  double a[] = { D(ino), D(fi->flags) };
  call(OP_OPEN, req, a, 2, NULL, NULL, NULL, 0);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  double a[] = { D(ino), fh_of(fi), D(size), D(off) };
  call(OP_READ, req, a, 4, NULL, NULL, NULL, 0);
}

/* write: a0 ino, a1 fh, a2 unused, a3 offset, a4 open flags; data is the bytes (copied). */
static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  double a[] = { D(ino), fh_of(fi), D(size), D(off), D(fi->flags) };
  call(OP_WRITE, req, a, 5, NULL, NULL, buf, size);
}

/*
 * A lock owner (64 bits, a scrambled kernel pointer) as 16 hex digits: a double would lose bits, and
 * two owners must never look alike.
 */
static const char *owner_hex(uint64_t owner, char out[17]) {
  snprintf(out, 17, "%016llx", (unsigned long long)owner);
  return out;
}

/* flush: a0 ino, a1 fh; name: the lock owner (its POSIX locks go at every close). */
static void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  char owner[17];
  double a[] = { D(ino), fh_of(fi), D(fi->lock_owner) };
  call(OP_FLUSH, req, a, 3, owner_hex(fi->lock_owner, owner), NULL, NULL, 0);
}

/* release: a0 ino, a1 fh, a2 open flags, a3 1 when the file's flock must go; name: the lock owner. */
static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  char owner[17];
  double a[] = { D(ino), fh_of(fi), D(fi->flags), D(fi->flock_release) };
  call(OP_RELEASE, req, a, 4, fi->flock_release ? owner_hex(fi->lock_owner, owner) : NULL, NULL, NULL, 0);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  double a[] = { D(ino), fh_of(fi), D(datasync) };
  call(OP_FSYNC, req, a, 3, NULL, NULL, NULL, 0);
}

/*
 * Directories are opened and closed without JavaScript: `find`, `du` and `rm -r` open every
 * directory, read it once and close it, and each request that wakes the JS thread costs as much as
 * the listing itself. Where the kernel allows it (FUSE_CAP_NO_OPENDIR_SUPPORT, when JavaScript asks
 * for it), the first opendir is answered ENOSYS, and from then on the kernel sends neither opendir
 * nor releasedir: two requests fewer per directory walked. It then caches listings in the
 * directory's page cache itself, dropped when the directory's mtime or change count moves.
 *
 * A directory's first readdir reaches JavaScript with no handle; JavaScript keeps one only when the
 * listing did not fit in that reply, and says which through the offsets it gives the entries
 * (lowlevel: the offset the kernel passes back to continue). When a reply held the listing's end,
 * the readdir that follows it (the kernel asks until it gets an empty piece) is answered here: from
 * the open directory when there is one, else from a small table of listings' ends by inode, which
 * holds the exact offset the end was given (a stale slot only sends the request on to JavaScript).
 */
static struct dir_end *dir_end_of(struct session *s, uint64_t ino) { return &s->dir_ends[ino & (DIR_END_SLOTS - 1)]; }

struct dir_open {
  double js_fh;    /* JavaScript's handle for this open directory; 0 = none */
  int64_t end_off; /* offset at or past which the listing is known to have ended; -1 = unknown */
};

static struct dir_open *dir_of(struct fuse_file_info *fi) { return (struct dir_open *)(uintptr_t)fi->fh; }

static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  struct session *s = fuse_req_userdata(req);
  if (s->no_opendir) { fuse_reply_err(req, ENOSYS); return; }
  struct dir_open *d = malloc(sizeof *d);
  if (!d) { fuse_reply_err(req, ENOMEM); return; }
  d->js_fh = 0;
  d->end_off = -1;
  fi->fh = (uint64_t)(uintptr_t)d;
  if (fuse_reply_open(req, fi) != 0) free(d); /* the open was interrupted: no releasedir comes */
}

/*
 * readdir(plus): a0 ino, a1 JavaScript's handle (0 = none), a2 size, a3 offset, a4 the open
 * directory for replyDir (0: none, the kernel did not open it here).
 */
static void readdir_any(int op, fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  struct dir_open *d = dir_of(fi);
  if (!d) {
    struct dir_end *e = dir_end_of(fuse_req_userdata(req), ino);
    if (off > 0 && e->ino == ino && e->off == off) { fuse_reply_buf(req, NULL, 0); return; }
  } else if (d->end_off >= 0 && off >= d->end_off) {
    fuse_reply_buf(req, NULL, 0);
    return;
  }
  double a[] = { D(ino), d ? d->js_fh : 0, D(size), D(off), D((uintptr_t)d) };
  call(op, req, a, 5, NULL, NULL, NULL, 0);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  readdir_any(OP_READDIR, req, ino, size, off, fi);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  readdir_any(OP_READDIRPLUS, req, ino, size, off, fi);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  struct dir_open *d = dir_of(fi);
  if (!d) { fuse_reply_err(req, 0); return; }
  double js_fh = d->js_fh;
  free(d);
  if (js_fh == 0) { fuse_reply_err(req, 0); return; }
  double a[] = { D(ino), js_fh };
  call(OP_RELEASEDIR, req, a, 2, NULL, NULL, NULL, 0);
}

static void ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  double a[] = { D(ino), fh_of(fi), D(datasync) };
  call(OP_FSYNCDIR, req, a, 3, NULL, NULL, NULL, 0);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino) {
  double a[] = { D(ino) };
  call(OP_STATFS, req, a, 1, NULL, NULL, NULL, 0);
}

static void ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags) {
  double a[] = { D(ino), D(flags) };
  call(OP_SETXATTR, req, a, 2, name, NULL, value ? value : "", size);
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) {
  double a[] = { D(ino), D(size) };
  call(OP_GETXATTR, req, a, 2, name, NULL, NULL, 0);
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  double a[] = { D(ino), D(size) };
  call(OP_LISTXATTR, req, a, 2, NULL, NULL, NULL, 0);
}

static void ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name) {
  double a[] = { D(ino) };
  call(OP_REMOVEXATTR, req, a, 1, name, NULL, NULL, 0);
}

static void ll_access(fuse_req_t req, fuse_ino_t ino, int mask) {
  double a[] = { D(ino), D(mask) };
  call(OP_ACCESS, req, a, 2, NULL, NULL, NULL, 0);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
  double a[] = { D(parent), D(mode), D(fi->flags) };
  call(OP_CREATE, req, a, 3, name, NULL, NULL, 0);
}

/* fallocate: a0 ino, a1 fh, a2 mode (FALLOC_FL_* bits), a3 offset, a4 length. */
static void ll_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, struct fuse_file_info *fi) {
  double a[] = { D(ino), fh_of(fi), D(mode), D(offset), D(length) };
  call(OP_FALLOCATE, req, a, 5, NULL, NULL, NULL, 0);
}

/*
 * getlk: a0 ino, a1 fh, a2 type (F_RDLCK, F_WRLCK), a3 start, a4 length (0: to the end), a5 pid;
 * name: the lock owner. Answered with replyLock.
 */
static void ll_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock) {
  char owner[17];
  double a[] = { D(ino), fh_of(fi), D(lock->l_type), D(lock->l_start), D(lock->l_len), D(lock->l_pid) };
  call(OP_GETLK, req, a, 6, owner_hex(fi->lock_owner, owner), NULL, NULL, 0);
}

/*
 * The kernel interrupted a request that waits for a lock (a signal the caller handles, such as
 * flock -w's alarm): dispatch(OP_INTERRUPT, req) tells JavaScript to stop waiting and answer EINTR.
 * It is not a request of its own: nothing answers it, so it is not counted as pending. Called by
 * libfuse on this thread, while it dispatches the INTERRUPT request (or at once on registration
 * when the interrupt came first).
 */
static void on_lock_interrupt(fuse_req_t req, void *data) {
  struct session *s = data;
  call(OP_INTERRUPT, req, NULL, 0, NULL, NULL, NULL, 0);
  if (s->pending > 0) s->pending--;
}

/* setlk: as getlk, a2 also F_UNLCK, and a6 1 to wait for a conflicting lock to go (F_SETLKW). */
static void ll_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock, int sleep) {
  char owner[17];
  double a[] = { D(ino), fh_of(fi), D(lock->l_type), D(lock->l_start), D(lock->l_len), D(lock->l_pid), D(sleep) };
  /* Before the call: JavaScript may answer within it (and the request be gone). An interrupt that
     came first is delivered at once, before the request: JavaScript keeps it for the request. */
  if (sleep) fuse_req_interrupt_func(req, on_lock_interrupt, fuse_req_userdata(req));
  call(OP_SETLK, req, a, 7, owner_hex(fi->lock_owner, owner), NULL, NULL, 0);
}

/* flock: a0 ino, a1 fh, a2 operation (LOCK_SH, LOCK_EX, LOCK_UN, | LOCK_NB); name: the lock owner. */
static void ll_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op) {
  char owner[17];
  double a[] = { D(ino), fh_of(fi), D(op) };
  if (!(op & LOCK_NB)) fuse_req_interrupt_func(req, on_lock_interrupt, fuse_req_userdata(req));
  call(OP_FLOCK, req, a, 3, owner_hex(fi->lock_owner, owner), NULL, NULL, 0);
}

static const struct fuse_lowlevel_ops ll_ops = {
  .init = ll_init,
  .lookup = ll_lookup,
  .forget = ll_forget,
  .forget_multi = ll_forget_multi,
  .getattr = ll_getattr,
  .setattr = ll_setattr,
  .readlink = ll_readlink,
  .mknod = ll_mknod,
  .mkdir = ll_mkdir,
  .unlink = ll_unlink,
  .rmdir = ll_rmdir,
  .symlink = ll_symlink,
  .rename = ll_rename,
  .link = ll_link,
  .open = ll_open,
  .read = ll_read,
  .write = ll_write,
  .flush = ll_flush,
  .release = ll_release,
  .fsync = ll_fsync,
  .opendir = ll_opendir,
  .readdir = ll_readdir,
  .readdirplus = ll_readdirplus,
  .releasedir = ll_releasedir,
  .fsyncdir = ll_fsyncdir,
  .statfs = ll_statfs,
  .setxattr = ll_setxattr,
  .getxattr = ll_getxattr,
  .listxattr = ll_listxattr,
  .removexattr = ll_removexattr,
  .access = ll_access,
  .create = ll_create,
  .fallocate = ll_fallocate,
  .getlk = ll_getlk,
  .setlk = ll_setlk,
  .flock = ll_flock,
};

/* ------------------------------------------------------------------ the device, polled */

static void call_exit(struct session *s, int err) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value argv[6], fn, global, undef;
  napi_get_undefined(env, &undef);
  napi_create_int32(env, OP_EXIT, &argv[0]);
  argv[1] = undef; argv[2] = undef; argv[3] = undef; argv[4] = undef;
  napi_create_int32(env, err, &argv[5]);
  napi_get_reference_value(env, s->dispatch, &fn);
  napi_get_global(env, &global);
  if (napi_make_callback(env, s->actx, global, fn, 6, argv, NULL) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void stop_polling(struct session *s) {
  if (s->polling) {
    uv_poll_stop(&s->poll);
    s->polling = 0;
  }
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Longest time one wakeup keeps the JS thread here, so that its other work (the master's answers, timers) is not held up. */
#define MAX_TURN_NS 2000000

/*
 * Reads every request queued on the device (at most a batch per wakeup, to let replies out).
 *
 * Then, when every request was answered at once (none waits on JavaScript's other work) and the
 * queue is empty, it keeps reading for up to poll_ns before going back to sleep. A program walking
 * a tree, or writing a file in pieces, sends its next request a few tens of microseconds after its
 * last answer; sleeping in between costs a sleep and a wakeup of this thread (in a virtual machine,
 * each as much as answering the request itself) and the wakeup's delay on the program's next
 * request. Not with one CPU (the program needs it to send that request), and never while a request
 * waits on JavaScript (its answer may need the event loop).
 */
static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  struct session *s = handle->data;
  if (status < 0) {
    /* POLLERR: the kernel ended the connection (an unmount) and libuv stopped polling. */
    s->polling = 0;
    s->exited = 1;
    call_exit(s, 0);
    return;
  }
  int64_t start = s->poll_ns > 0 ? now_ns() : 0;
  int64_t idle_since = -1;
  for (int i = 0; i < 256 && s->polling; i++) {
    int res = fuse_session_receive_buf(s->se, &s->buf);
    if (res == -EAGAIN) {
      if (s->poll_ns == 0 || s->pending > 0) return;
      int64_t now = now_ns();
      if (idle_since < 0) idle_since = now;
      if (now - idle_since > s->poll_ns || now - start > MAX_TURN_NS) return;
      i--; /* reading nothing does not count against the batch */
      continue;
    }
    idle_since = -1;
    if (res == -EINTR) continue;
    if (res <= 0 || fuse_session_exited(s->se)) {
      /* 0: the kernel ended the connection (unmounted) */
      stop_polling(s);
      s->exited = 1;
      call_exit(s, res < 0 ? -res : 0);
      return;
    }
    fuse_session_process_buf(s->se, &s->buf);
  }
}

/* ------------------------------------------------------------------ notifier thread */

static void *notifier_main(void *arg) {
  struct session *s = arg;
  for (;;) {
    pthread_mutex_lock(&s->nlock);
    while (!s->nhead && !s->nstop) pthread_cond_wait(&s->ncond, &s->nlock);
    struct notice *n = s->nhead;
    if (n) { s->nhead = n->next; if (!s->nhead) s->ntail = NULL; }
    pthread_mutex_unlock(&s->nlock);
    if (!n) break;
    int res = 0;
    if (n->kind == 1) res = fuse_lowlevel_notify_inval_entry(s->se, n->parent, n->name, strlen(n->name));
    else if (n->kind == 2) res = fuse_lowlevel_notify_inval_inode(s->se, n->ino, n->off, n->len);
    else if (n->kind == 3) res = fuse_lowlevel_notify_delete(s->se, n->parent, n->ino, n->name, strlen(n->name));
    struct notice_done *d = malloc(sizeof *d);
    if (d) {
      d->token = n->token;
      d->err = -res;
      if (napi_call_threadsafe_function(s->notify_tsfn, d, napi_tsfn_blocking) != napi_ok) free(d);
    }
    free(n->name);
    free(n);
  }
  return NULL;
}

/* Completions of notifications: dispatch(NOTIFY_DONE, token, err). */
static void notify_done_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)context;
  struct notice_done *d = data;
  if (env != NULL) {
    napi_value argv[3], global;
    napi_create_int32(env, OP_NOTIFY_DONE, &argv[0]);
    napi_create_double(env, d->token, &argv[1]);
    napi_create_double(env, d->err, &argv[2]);
    napi_get_global(env, &global);
    napi_call_function(env, global, js_cb, 3, argv, NULL);
  }
  free(d);
}

/* ------------------------------------------------------------------ JS side */

static napi_value num(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

static struct session *session_of(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, NULL, "fst_fuse: not a session");
    return NULL;
  }
  return p;
}

static fuse_req_t req_of(napi_env env, napi_value v) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok || d <= 0) {
    napi_throw_type_error(env, NULL, "fst_fuse: not a request");
    return NULL;
  }
  return (fuse_req_t)(uintptr_t)d;
}

static double arg_double(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

/* mount(mountpoint, args[], want, maxWrite, maxReadahead, dispatch[, pollMicros]) -> session */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) { napi_throw_type_error(env, NULL, "fst_fuse.mount: 6 arguments expected"); return NULL; }
  char mountpoint[4096];
  size_t mlen;
  CHECK(napi_get_value_string_utf8(env, argv[0], mountpoint, sizeof mountpoint, &mlen));
  uint32_t nargs;
  CHECK(napi_get_array_length(env, argv[1], &nargs));
  char **fargv = calloc(nargs + 2, sizeof(char *));
  if (!fargv) { napi_throw_error(env, "ENOMEM", "fst_fuse: out of memory"); return NULL; }
  fargv[0] = strdup("fst-mount");
  for (uint32_t i = 0; i < nargs; i++) {
    napi_value el;
    size_t len;
    CHECK(napi_get_element(env, argv[1], i, &el));
    CHECK(napi_get_value_string_utf8(env, el, NULL, 0, &len));
    fargv[i + 1] = malloc(len + 1);
    CHECK(napi_get_value_string_utf8(env, el, fargv[i + 1], len + 1, &len));
  }
  struct session *s = calloc(1, sizeof *s);
  if (!s) { napi_throw_error(env, "ENOMEM", "fst_fuse: out of memory"); return NULL; }
  s->env = env;
  s->want = (unsigned)arg_double(env, argv[2]);
  s->max_write = (unsigned)arg_double(env, argv[3]);
  s->max_readahead = (unsigned)arg_double(env, argv[4]);
  /* argv[6]: microseconds to keep reading after a burst (on_readable); ignored with one CPU. */
  double poll_us = argc > 6 ? arg_double(env, argv[6]) : 0;
  s->poll_ns = poll_us > 0 && sysconf(_SC_NPROCESSORS_ONLN) > 1 ? (int64_t)(poll_us * 1000) : 0;
  pthread_mutex_init(&s->nlock, NULL);
  pthread_cond_init(&s->ncond, NULL);

  struct fuse_args args = FUSE_ARGS_INIT((int)nargs + 1, fargv);
  s->se = fuse_session_new(&args, &ll_ops, sizeof ll_ops, s);
  fuse_opt_free_args(&args);
  if (!s->se) {
    free(s);
    napi_throw_error(env, "EINVAL", "fst_fuse: fuse_session_new failed (bad options?)");
    return NULL;
  }
  if (fuse_session_mount(s->se, mountpoint) != 0) {
    fuse_session_destroy(s->se);
    free(s);
    napi_throw_error(env, "EIO", "fst_fuse: mounting failed (see the message above)");
    return NULL;
  }
  int fd = fuse_session_fd(s->se);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  napi_value name;
  napi_create_string_utf8(env, "fst_fuse", NAPI_AUTO_LENGTH, &name);
  uv_loop_t *loop = NULL;
  if (napi_create_reference(env, argv[5], 1, &s->dispatch) != napi_ok
      || napi_async_init(env, NULL, name, &s->actx) != napi_ok
      || napi_create_threadsafe_function(env, argv[5], NULL, name, 0, 1, NULL, NULL, NULL, notify_done_js, &s->notify_tsfn) != napi_ok
      || napi_get_uv_event_loop(env, &loop) != napi_ok
      || uv_poll_init(loop, &s->poll, fd) != 0) {
    fuse_session_unmount(s->se);
    fuse_session_destroy(s->se);
    free(s);
    napi_throw_error(env, NULL, "fst_fuse: cannot set up the event loop side");
    return NULL;
  }
  /* The poll handle keeps the process alive while mounted; the notifier's function must not. */
  napi_unref_threadsafe_function(env, s->notify_tsfn);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  s->polling = 1;
  if (pthread_create(&s->notifier, NULL, notifier_main, s) == 0) s->notifier_started = 1;
  napi_value out;
  CHECK(napi_create_external(env, s, NULL, NULL, &out));
  return out;
}

/*
 * close(session): unmounts (lazily: a process inside the mount keeps the kernel's side until it
 * leaves) and frees what the session holds. No reply goes out afterwards; requests still in
 * JavaScript are dropped with it. Idempotent.
 */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct session *s = session_of(env, argv[0]);
  if (!s || s->closed) return NULL;
  s->closed = 1;
  stop_polling(s);
  uv_close((uv_handle_t *)&s->poll, NULL);
  fuse_session_exit(s->se);
  fuse_session_unmount(s->se);
  pthread_mutex_lock(&s->nlock);
  s->nstop = 1;
  pthread_cond_signal(&s->ncond);
  pthread_mutex_unlock(&s->nlock);
  if (s->notifier_started) pthread_join(s->notifier, NULL);
  napi_release_threadsafe_function(s->notify_tsfn, napi_tsfn_abort);
  napi_async_destroy(env, s->actx);
  napi_delete_reference(env, s->dispatch);
  free(s->buf.mem);
  s->buf.mem = NULL;
  fuse_session_destroy(s->se);
  s->se = NULL;
  /* `s` itself stays: the poll handle's memory must outlive uv_close, and stray calls check `closed`. */
  return NULL;
}

/* The attribute layout JavaScript fills (lowlevel.ts ATTR_FIELDS). */
enum { AT_INO, AT_MODE, AT_NLINK, AT_UID, AT_GID, AT_RDEV, AT_SIZE, AT_BLOCKS, AT_ATIME, AT_ATIME_NS,
       AT_MTIME, AT_MTIME_NS, AT_CTIME, AT_CTIME_NS, AT_BLKSIZE, AT_COUNT };

static int get_f64(napi_env env, napi_value v, double **data, size_t *count) {
  napi_typedarray_type type;
  size_t length, offset;
  void *raw;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &raw, &ab, &offset) != napi_ok || type != napi_float64_array) {
    napi_throw_type_error(env, NULL, "fst_fuse: Float64Array expected");
    return -1;
  }
  *data = raw;
  *count = length;
  return 0;
}

static void fill_stat(struct stat *st, const double *a) {
  memset(st, 0, sizeof *st);
  st->st_ino = (ino_t)a[AT_INO];
  st->st_mode = (mode_t)a[AT_MODE];
  st->st_nlink = (nlink_t)a[AT_NLINK];
  st->st_uid = (uid_t)a[AT_UID];
  st->st_gid = (gid_t)a[AT_GID];
  st->st_rdev = (dev_t)a[AT_RDEV];
  st->st_size = (off_t)a[AT_SIZE];
  st->st_blocks = (blkcnt_t)a[AT_BLOCKS];
  st->st_atim.tv_sec = (time_t)a[AT_ATIME];
  st->st_atim.tv_nsec = (long)a[AT_ATIME_NS];
  st->st_mtim.tv_sec = (time_t)a[AT_MTIME];
  st->st_mtim.tv_nsec = (long)a[AT_MTIME_NS];
  st->st_ctim.tv_sec = (time_t)a[AT_CTIME];
  st->st_ctim.tv_nsec = (long)a[AT_CTIME_NS];
  st->st_blksize = (blksize_t)a[AT_BLKSIZE];
}

static void fill_entry(struct fuse_entry_param *e, const double *a, double entry_to, double attr_to) {
  memset(e, 0, sizeof *e);
  e->ino = (fuse_ino_t)a[AT_INO];
  e->generation = 0;
  fill_stat(&e->attr, a);
  e->entry_timeout = entry_to;
  e->attr_timeout = attr_to;
}

/* Open flags: 1 direct_io, 2 keep_cache, 4 nonseekable, 8 cache_readdir, 16 noflush. */
static void fill_open(struct fuse_file_info *fi, double fh, unsigned flags) {
  memset(fi, 0, sizeof *fi);
  fi->fh = (uint64_t)fh;
  fi->direct_io = (flags & 1) != 0;
  fi->keep_cache = (flags & 2) != 0;
  fi->nonseekable = (flags & 4) != 0;
  fi->cache_readdir = (flags & 8) != 0;
  fi->noflush = (flags & 16) != 0;
}

#define REPLY_PROLOGUE(n)                                                   \
  size_t argc = (n);                                                        \
  napi_value argv[(n) > 0 ? (n) : 1];                                       \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));              \
  struct session *s = session_of(env, argv[0]);                            \
  if (!s) return NULL;                                                      \
  fuse_req_t req = req_of(env, argv[1]);                                    \
  if (!req) return NULL;                                                    \
  if (s->pending > 0) s->pending--;                                         \
  if (s->closed) return NULL;

/* replyErr(session, req, errno) (0 = success without data) */
static napi_value js_reply_err(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(3);
  fuse_reply_err(req, (int)arg_double(env, argv[2]));
  return NULL;
}

/* replyNone(session, req) */
static napi_value js_reply_none(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(2);
  fuse_reply_none(req);
  return NULL;
}

/* replyEntry(session, req, attr Float64Array, entryTimeout, attrTimeout); attr ino 0 = negative entry */
static napi_value js_reply_entry(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(5);
  double *a;
  size_t n;
  if (get_f64(env, argv[2], &a, &n) || n < AT_COUNT) return NULL;
  struct fuse_entry_param e;
  fill_entry(&e, a, arg_double(env, argv[3]), arg_double(env, argv[4]));
  fuse_reply_entry(req, &e);
  return NULL;
}

/* replyCreate(session, req, attr, entryTimeout, attrTimeout, fh, openFlags) */
static napi_value js_reply_create(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(7);
  double *a;
  size_t n;
  if (get_f64(env, argv[2], &a, &n) || n < AT_COUNT) return NULL;
  struct fuse_entry_param e;
  fill_entry(&e, a, arg_double(env, argv[3]), arg_double(env, argv[4]));
  struct fuse_file_info fi;
  fill_open(&fi, arg_double(env, argv[5]), (unsigned)arg_double(env, argv[6]));
  fuse_reply_create(req, &e, &fi);
  return NULL;
}

/* replyAttr(session, req, attr, attrTimeout) */
static napi_value js_reply_attr(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(4);
  double *a;
  size_t n;
  if (get_f64(env, argv[2], &a, &n) || n < AT_COUNT) return NULL;
  struct stat st;
  fill_stat(&st, a);
  fuse_reply_attr(req, &st, arg_double(env, argv[3]));
  return NULL;
}

/* replyOpen(session, req, fh, openFlags) */
static napi_value js_reply_open(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(4);
  struct fuse_file_info fi;
  fill_open(&fi, arg_double(env, argv[2]), (unsigned)arg_double(env, argv[3]));
  fuse_reply_open(req, &fi);
  return NULL;
}

/* replyBuf(session, req, buffer | undefined): read data, getxattr/listxattr values */
static napi_value js_reply_buf(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(3);
  void *data = NULL;
  size_t len = 0;
  bool is_buf = false;
  napi_is_buffer(env, argv[2], &is_buf);
  if (is_buf) CHECK(napi_get_buffer_info(env, argv[2], &data, &len));
  fuse_reply_buf(req, data, len);
  return NULL;
}

/* replyWrite(session, req, count) */
static napi_value js_reply_write(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(3);
  fuse_reply_write(req, (size_t)arg_double(env, argv[2]));
  return NULL;
}

/* replyLock(session, req, type, start, length, pid): getlk's answer (type F_UNLCK: no conflict). */
static napi_value js_reply_lock(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(6);
  struct flock lk;
  memset(&lk, 0, sizeof lk);
  lk.l_type = (short)arg_double(env, argv[2]);
  lk.l_whence = SEEK_SET;
  lk.l_start = (off_t)arg_double(env, argv[3]);
  lk.l_len = (off_t)arg_double(env, argv[4]);
  lk.l_pid = (pid_t)arg_double(env, argv[5]);
  fuse_reply_lock(req, &lk);
  return NULL;
}

/* replyXattrSize(session, req, size) */
static napi_value js_reply_xattr(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(3);
  fuse_reply_xattr(req, (size_t)arg_double(env, argv[2]));
  return NULL;
}

/* replyReadlink(session, req, target) */
static napi_value js_reply_readlink(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(3);
  size_t len;
  CHECK(napi_get_value_string_utf8(env, argv[2], NULL, 0, &len));
  char *target = malloc(len + 1);
  if (!target) { fuse_reply_err(req, ENOMEM); return NULL; }
  napi_get_value_string_utf8(env, argv[2], target, len + 1, &len);
  fuse_reply_readlink(req, target);
  free(target);
  return NULL;
}

/* replyStatfs(session, req, Float64Array [bsize, frsize, blocks, bfree, bavail, files, ffree, favail, namemax]) */
static napi_value js_reply_statfs(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(3);
  double *a;
  size_t n;
  if (get_f64(env, argv[2], &a, &n) || n < 9) return NULL;
  struct statvfs st;
  memset(&st, 0, sizeof st);
  st.f_bsize = (unsigned long)a[0];
  st.f_frsize = (unsigned long)a[1];
  st.f_blocks = (fsblkcnt_t)a[2];
  st.f_bfree = (fsblkcnt_t)a[3];
  st.f_bavail = (fsblkcnt_t)a[4];
  st.f_files = (fsfilcnt_t)a[5];
  st.f_ffree = (fsfilcnt_t)a[6];
  st.f_favail = (fsfilcnt_t)a[7];
  st.f_namemax = (unsigned long)a[8];
  fuse_reply_statfs(req, &st);
  return NULL;
}

/*
 * replyDir(session, req, size, plus, names[], attrs Float64Array (AT_COUNT per name), firstOffset,
 * entryTimeout, attrTimeout, dir, jsFh, end, ino) -> entries that fitted. Entry i gets offset
 * firstOffset + i + 1 (the offset the kernel passes back to continue after it). Without plus only
 * ino and mode are used. `dir` is the open directory the request came with (0: none): it now
 * carries jsFh. When `end` says the names run to the listing's end and all of them fitted, where it
 * ended is kept (in `dir`, or by `ino` when there is none).
 */
static napi_value js_reply_dir(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(13);
  size_t size = (size_t)arg_double(env, argv[2]);
  bool plus = false;
  napi_get_value_bool(env, argv[3], &plus);
  uint32_t count;
  CHECK(napi_get_array_length(env, argv[4], &count));
  double *a;
  size_t n;
  if (get_f64(env, argv[5], &a, &n)) return NULL;
  double first = arg_double(env, argv[6]);
  double entry_to = arg_double(env, argv[7]);
  double attr_to = arg_double(env, argv[8]);
  char *buf = malloc(size ? size : 1);
  if (!buf) { fuse_reply_err(req, ENOMEM); return NULL; }
  size_t pos = 0;
  uint32_t added = 0;
  char name[1024];
  for (uint32_t i = 0; i < count && (size_t)(i + 1) * AT_COUNT <= n; i++) {
    napi_value el;
    size_t len;
    if (napi_get_element(env, argv[4], i, &el) != napi_ok) break;
    if (napi_get_value_string_utf8(env, el, name, sizeof name, &len) != napi_ok) break;
    const double *at = a + (size_t)i * AT_COUNT;
    size_t need;
    off_t next = (off_t)(first + i + 1);
    if (plus) {
      struct fuse_entry_param e;
      fill_entry(&e, at, entry_to, attr_to);
      /* "." and ".." must not count as lookups: a zero ino tells the kernel so. */
      if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) { e.ino = 0; e.attr.st_ino = (ino_t)at[AT_INO]; }
      need = fuse_add_direntry_plus(req, buf + pos, size - pos, name, &e, next);
    } else {
      struct stat st;
      fill_stat(&st, at);
      need = fuse_add_direntry(req, buf + pos, size - pos, name, &st, next);
    }
    if (need > size - pos) break;
    pos += need;
    added++;
  }
  struct dir_open *d = (struct dir_open *)(uintptr_t)arg_double(env, argv[9]);
  bool end = false;
  napi_get_value_bool(env, argv[11], &end);
  int64_t end_off = end && added == count ? (int64_t)first + count : -1;
  if (d) {
    d->js_fh = arg_double(env, argv[10]);
    d->end_off = end_off;
  } else {
    uint64_t ino = (uint64_t)arg_double(env, argv[12]);
    struct dir_end *e = dir_end_of(s, ino);
    if (end_off >= 0) { e->ino = ino; e->off = end_off; }
    else if (e->ino == ino) e->ino = 0;
  }
  fuse_reply_buf(req, buf, pos);
  free(buf);
  return num(env, added);
}

static int queue_notice(struct session *s, struct notice *n) {
  pthread_mutex_lock(&s->nlock);
  if (s->nstop) { pthread_mutex_unlock(&s->nlock); return -1; }
  if (s->ntail) s->ntail->next = n; else s->nhead = n;
  s->ntail = n;
  pthread_cond_signal(&s->ncond);
  pthread_mutex_unlock(&s->nlock);
  return 0;
}

/*
 * notify(session, kind, parent, ino, off, len, name | undefined, token): queued to the notifier
 * thread; its completion comes back as a NOTIFY_DONE event with `token` and the errno (0 = done).
 * kind 1: inval_entry(parent, name); 2: inval_inode(ino, off, len); 3: delete(parent, ino, name).
 */
static napi_value js_notify(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct session *s = session_of(env, argv[0]);
  if (!s) return NULL;
  if (s->closed || s->exited) return num(env, -1);
  struct notice *n = calloc(1, sizeof *n);
  if (!n) return num(env, -1);
  n->kind = (int)arg_double(env, argv[1]);
  n->parent = (uint64_t)arg_double(env, argv[2]);
  n->ino = (uint64_t)arg_double(env, argv[3]);
  n->off = (int64_t)arg_double(env, argv[4]);
  n->len = (int64_t)arg_double(env, argv[5]);
  napi_valuetype t;
  napi_typeof(env, argv[6], &t);
  if (t == napi_string) {
    size_t len;
    napi_get_value_string_utf8(env, argv[6], NULL, 0, &len);
    n->name = malloc(len + 1);
    napi_get_value_string_utf8(env, argv[6], n->name, len + 1, &len);
  }
  n->token = arg_double(env, argv[7]);
  if ((n->kind == 1 || n->kind == 3) && !n->name) { free(n); return num(env, -1); }
  if (queue_notice(s, n) != 0) { free(n->name); free(n); return num(env, -1); }
  return num(env, 0);
}

/*
 * invalAttr(session, ino): drops the kernel's cached attributes of an inode at once, from the JS
 * thread. Safe there: invalidating attributes only (a negative offset) takes no inode lock.
 */
static napi_value js_inval_attr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct session *s = session_of(env, argv[0]);
  if (!s || s->closed || s->exited) return num(env, -1);
  int res = fuse_lowlevel_notify_inval_inode(s->se, (fuse_ino_t)arg_double(env, argv[1]), -1, 0);
  return num(env, -res);
}

/* The FUSE_CAP_* bits JavaScript may ask for. */
static napi_value capabilities(napi_env env) {
  napi_value o;
  napi_create_object(env, &o);
  struct { const char *name; unsigned v; } caps[] = {
    { "ASYNC_READ", FUSE_CAP_ASYNC_READ }, { "ATOMIC_O_TRUNC", FUSE_CAP_ATOMIC_O_TRUNC },
    { "EXPORT_SUPPORT", FUSE_CAP_EXPORT_SUPPORT }, { "DONT_MASK", FUSE_CAP_DONT_MASK },
    { "READDIRPLUS", FUSE_CAP_READDIRPLUS }, { "READDIRPLUS_AUTO", FUSE_CAP_READDIRPLUS_AUTO },
    { "ASYNC_DIO", FUSE_CAP_ASYNC_DIO }, { "WRITEBACK_CACHE", FUSE_CAP_WRITEBACK_CACHE },
    { "PARALLEL_DIROPS", FUSE_CAP_PARALLEL_DIROPS }, { "AUTO_INVAL_DATA", FUSE_CAP_AUTO_INVAL_DATA },
    { "CACHE_SYMLINKS", FUSE_CAP_CACHE_SYMLINKS }, { "EXPLICIT_INVAL_DATA", FUSE_CAP_EXPLICIT_INVAL_DATA },
    { "IOCTL_DIR", FUSE_CAP_IOCTL_DIR }, { "HANDLE_KILLPRIV", FUSE_CAP_HANDLE_KILLPRIV },
    { "NO_OPENDIR_SUPPORT", FUSE_CAP_NO_OPENDIR_SUPPORT },
    { "POSIX_LOCKS", FUSE_CAP_POSIX_LOCKS }, { "FLOCK_LOCKS", FUSE_CAP_FLOCK_LOCKS },
  };
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) napi_set_named_property(env, o, caps[i].name, num(env, caps[i].v));
  return o;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL },
        { "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
    { "replyErr", NULL, js_reply_err, NULL, NULL, NULL, napi_default, NULL },
    { "replyNone", NULL, js_reply_none, NULL, NULL, NULL, napi_default, NULL },
    { "replyEntry", NULL, js_reply_entry, NULL, NULL, NULL, napi_default, NULL },
    { "replyCreate", NULL, js_reply_create, NULL, NULL, NULL, napi_default, NULL },
    { "replyAttr", NULL, js_reply_attr, NULL, NULL, NULL, napi_default, NULL },
    { "replyOpen", NULL, js_reply_open, NULL, NULL, NULL, napi_default, NULL },
    { "replyBuf", NULL, js_reply_buf, NULL, NULL, NULL, napi_default, NULL },
    { "replyWrite", NULL, js_reply_write, NULL, NULL, NULL, napi_default, NULL },
    { "replyLock", NULL, js_reply_lock, NULL, NULL, NULL, napi_default, NULL },
    { "replyXattr", NULL, js_reply_xattr, NULL, NULL, NULL, napi_default, NULL },
    { "replyReadlink", NULL, js_reply_readlink, NULL, NULL, NULL, napi_default, NULL },
    { "replyStatfs", NULL, js_reply_statfs, NULL, NULL, NULL, napi_default, NULL },
    { "replyDir", NULL, js_reply_dir, NULL, NULL, NULL, napi_default, NULL },
    { "notify", NULL, js_notify, NULL, NULL, NULL, napi_default, NULL },
    { "invalAttr", NULL, js_inval_attr, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_set_named_property(env, exports, "CAP", capabilities(env));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
