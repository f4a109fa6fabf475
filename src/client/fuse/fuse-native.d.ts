// The part of fuse-native's API that FST uses (the package ships no types).
declare module 'fuse-native' {
  interface FuseOptions {
    force?: boolean;
    mkdir?: boolean;
    debug?: boolean;
    allowOther?: boolean;
    defaultPermissions?: boolean;
    autoUnmount?: boolean;
    fsname?: string;
    maxRead?: number;
    entryTimeout?: number;
    attrTimeout?: number;
    /** false: never answer for a slow operation (fuse-native's default is a 15 s timeout). */
    timeout?: number | false;
  }
  class Fuse {
    constructor(mnt: string, ops: Record<string, (...args: never[]) => void>, opts?: FuseOptions);
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    /** The caller of the request whose handler runs now (patched fuse-native); throws elsewhere. */
    context(): { uid: number; gid: number; pid: number };
    static unmount(mnt: string, cb: (err: Error | null) => void): void;
    static isConfigured(cb: (err: Error | null, configured: boolean) => void): void;
  }
  export default Fuse;
}
