/**
 * The method tables of FST's four services, one per .proto file. A unit test checks them against
 * the .proto definitions so that they cannot drift.
 */
import { fst } from '../../proto-gen/fst.js';
import { encodeReaddirManyResponse, encodeReaddirResponse } from './listing-encoder.js';
import { encodeWriteRangeParts } from './write-range-encoder.js';
import { method } from './service-def.js';

const M = 'fst.MasterService';
export const MasterMethods = {
  Lookup: method(M, 'Lookup', 'unary', fst.LookupRequest, fst.LookupResponse),
  GetAttr: method(M, 'GetAttr', 'unary', fst.GetAttrRequest, fst.GetAttrResponse),
  SetAttr: method(M, 'SetAttr', 'unary', fst.SetAttrRequest, fst.SetAttrResponse),
  Mknod: method(M, 'Mknod', 'unary', fst.MknodRequest, fst.MknodResponse),
  Mkdir: method(M, 'Mkdir', 'unary', fst.MkdirRequest, fst.MkdirResponse),
  Unlink: method(M, 'Unlink', 'unary', fst.UnlinkRequest, fst.UnlinkResponse),
  Rmdir: method(M, 'Rmdir', 'unary', fst.RmdirRequest, fst.RmdirResponse),
  Rename: method(M, 'Rename', 'unary', fst.RenameRequest, fst.RenameResponse),
  Link: method(M, 'Link', 'unary', fst.LinkRequest, fst.LinkResponse),
  Symlink: method(M, 'Symlink', 'unary', fst.SymlinkRequest, fst.SymlinkResponse),
  Readlink: method(M, 'Readlink', 'unary', fst.ReadlinkRequest, fst.ReadlinkResponse),
  // Its answer, the largest on the metadata path, has an encoder of its own (listing-encoder.ts).
  Readdir: { ...method(M, 'Readdir', 'unary', fst.ReaddirRequest, fst.ReaddirResponse), serializeResponse: encodeReaddirResponse },
  ReaddirMany: {
    ...method(M, 'ReaddirMany', 'unary', fst.ReaddirManyRequest, fst.ReaddirManyResponse), serializeResponse: encodeReaddirManyResponse,
  },
  Statfs: method(M, 'Statfs', 'unary', fst.StatfsRequest, fst.StatfsResponse),
  GetXattr: method(M, 'GetXattr', 'unary', fst.GetXattrRequest, fst.GetXattrResponse),
  SetXattr: method(M, 'SetXattr', 'unary', fst.SetXattrRequest, fst.SetXattrResponse),
  ListXattr: method(M, 'ListXattr', 'unary', fst.ListXattrRequest, fst.ListXattrResponse),
  RemoveXattr: method(M, 'RemoveXattr', 'unary', fst.RemoveXattrRequest, fst.RemoveXattrResponse),
  LocateChunks: method(M, 'LocateChunks', 'unary', fst.LocateChunksRequest, fst.LocateChunksResponse),
  AllocateChunk: method(M, 'AllocateChunk', 'unary', fst.AllocateChunkRequest, fst.AllocateChunkResponse),
  CommitWrite: method(M, 'CommitWrite', 'unary', fst.CommitWriteRequest, fst.CommitWriteResponse),
  UpdateOrphans: method(M, 'UpdateOrphans', 'unary', fst.UpdateOrphansRequest, fst.UpdateOrphansResponse),
  WriteInline: method(M, 'WriteInline', 'unary', fst.WriteInlineRequest, fst.WriteInlineResponse),
  SyncMetadata: method(M, 'SyncMetadata', 'unary', fst.SyncMetadataRequest, fst.SyncMetadataResponse),
  Delegate: method(M, 'Delegate', 'unary', fst.DelegateRequest, fst.DelegateResponse),
  ApplyChanges: method(M, 'ApplyChanges', 'unary', fst.ApplyChangesRequest, fst.ApplyChangesResponse),
  AwaitRecall: method(M, 'AwaitRecall', 'unary', fst.AwaitRecallRequest, fst.AwaitRecallResponse),
  GetIdentity: method(M, 'GetIdentity', 'unary', fst.GetIdentityRequest, fst.GetIdentityResponse),
  Lock: method(M, 'Lock', 'unary', fst.LockRequest, fst.LockResponse),
  PunchHole: method(M, 'PunchHole', 'unary', fst.PunchHoleRequest, fst.PunchHoleResponse),
};

const R = 'fst.ChunkserverRegistryService';
export const RegistryMethods = {
  RegisterChunkserver: method(R, 'RegisterChunkserver', 'unary', fst.RegisterChunkserverRequest, fst.RegisterChunkserverResponse),
  Heartbeat: method(R, 'Heartbeat', 'bidi', fst.HeartbeatRequest, fst.HeartbeatResponse),
};

const A = 'fst.AdminService';
export const AdminMethods = {
  GetClusterStatus: method(A, 'GetClusterStatus', 'unary', fst.GetClusterStatusRequest, fst.GetClusterStatusResponse),
  GetGoal: method(A, 'GetGoal', 'unary', fst.GetGoalRequest, fst.GetGoalResponse),
  SetGoal: method(A, 'SetGoal', 'unary', fst.SetGoalRequest, fst.SetGoalResponse),
  Decommission: method(A, 'Decommission', 'unary', fst.DecommissionRequest, fst.DecommissionResponse),
  StartRebalance: method(A, 'StartRebalance', 'unary', fst.StartRebalanceRequest, fst.StartRebalanceResponse),
  StopRebalance: method(A, 'StopRebalance', 'unary', fst.StopRebalanceRequest, fst.StopRebalanceResponse),
  Fsck: method(A, 'Fsck', 'unary', fst.FsckRequest, fst.FsckResponse),
  CollectGarbage: method(A, 'CollectGarbage', 'unary', fst.CollectGarbageRequest, fst.CollectGarbageResponse),
  DiskUsage: method(A, 'DiskUsage', 'unary', fst.DiskUsageRequest, fst.DiskUsageResponse),
  ForgetChunkserver: method(A, 'ForgetChunkserver', 'unary', fst.ForgetChunkserverRequest, fst.ForgetChunkserverResponse),
  CreateCredential: method(A, 'CreateCredential', 'unary', fst.CreateCredentialRequest, fst.CreateCredentialResponse),
  ListCredentials: method(A, 'ListCredentials', 'unary', fst.ListCredentialsRequest, fst.ListCredentialsResponse),
  RevokeCredential: method(A, 'RevokeCredential', 'unary', fst.RevokeCredentialRequest, fst.RevokeCredentialResponse),
  BackupMetadata: method(A, 'BackupMetadata', 'unary', fst.BackupMetadataRequest, fst.BackupMetadataResponse),
  ReadBackup: method(A, 'ReadBackup', 'unary', fst.ReadBackupRequest, fst.ReadBackupResponse),
  DumpMetadata: method(A, 'DumpMetadata', 'unary', fst.DumpMetadataRequest, fst.BackupMetadataResponse),
  RebuildMetadata: method(A, 'RebuildMetadata', 'unary', fst.RebuildMetadataRequest, fst.RebuildMetadataResponse),
};

const C = 'fst.ChunkserverService';
export const ChunkserverMethods = {
  WriteChunk: method(C, 'WriteChunk', 'client-stream', fst.WriteChunkRequest, fst.WriteChunkResponse),
  // Its data goes out as the writer's buffer, not copied into the encoding (write-range-encoder.ts).
  WriteRange: { ...method(C, 'WriteRange', 'unary', fst.WriteRangeRequest, fst.WriteChunkResponse), serializeRequestParts: encodeWriteRangeParts },
  ReadChunk: method(C, 'ReadChunk', 'server-stream', fst.ReadChunkRequest, fst.ReadChunkResponse),
  ReadRange: method(C, 'ReadRange', 'unary', fst.ReadChunkRequest, fst.ReadRangeResponse),
  CopyChunk: method(C, 'CopyChunk', 'unary', fst.CopyChunkRequest, fst.CopyChunkResponse),
  DeleteChunk: method(C, 'DeleteChunk', 'unary', fst.DeleteChunkRequest, fst.DeleteChunkResponse),
  GetChunkChecksums: method(C, 'GetChunkChecksums', 'unary', fst.GetChunkChecksumsRequest, fst.GetChunkChecksumsResponse),
  SetChunkVersion: method(C, 'SetChunkVersion', 'unary', fst.SetChunkVersionRequest, fst.SetChunkVersionResponse),
  ListChunks: method(C, 'ListChunks', 'server-stream', fst.ListChunksRequest, fst.ListChunksResponse),
};
