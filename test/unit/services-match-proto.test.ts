/** The hand-written method tables must match the .proto files exactly (names, streaming, types). */
import protobuf from 'protobufjs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdminMethods, ChunkserverMethods, MasterMethods, RegistryMethods } from '../../src/common/rpc/services.js';

const root = protobuf.loadSync(['master.proto', 'chunkserver.proto', 'registry.proto', 'admin.proto'].map((f) => join(import.meta.dirname, '../../proto', f)));

describe('service tables', () => {
  for (const [service, table] of Object.entries({
    'fst.MasterService': MasterMethods,
    'fst.ChunkserverService': ChunkserverMethods,
    'fst.ChunkserverRegistryService': RegistryMethods,
    'fst.AdminService': AdminMethods,
  })) {
    it(`${service} matches its .proto`, () => {
      const svc = root.lookupService(service);
      expect(Object.keys(table).sort()).toEqual(Object.keys(svc.methods).sort());
      for (const [name, m] of Object.entries(svc.methods)) {
        const d = (table as Record<string, { path: string; kind: string }>)[name]!;
        expect(d.path).toBe(`/${service}/${name}`);
        const kind = m.requestStream ? (m.responseStream ? 'bidi' : 'client-stream') : m.responseStream ? 'server-stream' : 'unary';
        expect(d.kind, name).toBe(kind);
      }
    });
  }
});
