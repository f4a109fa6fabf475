/**
 * WriteRange requests as the buffers to send: the small fields encoded by protobufjs, followed by
 * the `data` field's tag and length, then the data itself, the writer's own buffer (a view of the
 * mount's write-back buffer, or of the frame a replica received), never copied into an encoding.
 * Protobuf decoders take fields in any order, so the receiver decodes it as any WriteRangeRequest.
 */
import { fst } from '../../proto-gen/fst.js';
import { toBuffer } from './service-def.js';

/** Field 3 (`data`), wire type 2 (length-delimited). */
const DATA_KEY = (3 << 3) | 2;

export function encodeWriteRangeParts(req: fst.IWriteRangeRequest): Buffer[] {
  const data = req.data ?? undefined;
  const writer = fst.WriteRangeRequest.encode({ ...req, data: undefined });
  if (!data || data.length === 0) return [toBuffer(writer.finish())];
  return [toBuffer(writer.uint32(DATA_KEY).uint32(data.length).finish()), toBuffer(data)];
}
