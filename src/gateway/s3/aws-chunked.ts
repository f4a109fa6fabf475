/**
 * Decoder of `Content-Encoding: aws-chunked` request bodies, the framing S3 clients use to sign a
 * body chunk by chunk or to send its checksum after it:
 *
 *   <hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
 *   [<trailer>:<value>\r\n ... [x-amz-trailer-signature:<sig>\r\n]]\r\n
 *
 * Data leaves as subarrays of the input buffers; only the line being read (a chunk header or a
 * trailer, at most `maxLineBytes`) is held. Every check that can fail fails through the stream
 * before it ends, so a writer that commits only at end never commits a body that failed one.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  checksumAlgorithmOf, CHECKSUM_ALGORITHMS, isChecksumName, isWellFormedChecksum, runningChecksum, type RunningChecksum,
} from './checksums.js';
import { S3Error } from './s3-error.js';
import { chunkStringToSign, EMPTY_SHA256, sameSignature, sha256Hex, signHex, trailerStringToSign } from './sigv4-crypto.js';
import type { VerifiedSignature } from './sigv4.js';

export interface AwsChunkedOptions {
  /** The request's x-amz-content-sha256: says whether chunks are signed and whether trailers follow. */
  payloadHash: string;
  /** The request's verified signature: the key and seed signed chunks chain from. */
  verified?: VerifiedSignature;
  /** x-amz-decoded-content-length: the decoded body must be exactly this long. */
  decodedLength?: number;
  /** x-amz-trailer: the trailers the body must end with (lower case). */
  trailerNames?: string[];
  /** Longest chunk-header or trailer line accepted, its CRLF included. @default 4096 */
  maxLineBytes?: number;
}

type Phase = 'size-line' | 'data' | 'data-crlf' | 'trailer-line' | 'done';

const MAX_TRAILERS = 16;
const SIZE = /^[0-9a-fA-F]{1,13}$/;
const SIGNATURE_EXT = /^chunk-signature=([0-9a-f]{64})$/;
const TRAILER_NAME = /^[a-z0-9-]+$/;

const malformed = (what: string): S3Error => new S3Error('InvalidRequest', `Malformed aws-chunked body: ${what}`);

export class AwsChunkedDecoder extends Transform {
  /** The trailers the body ended with (names lower case); complete once the stream has finished. */
  readonly trailers: Record<string, string> = Object.create(null) as Record<string, string>;
  private decoded = 0;
  private phase: Phase = 'size-line';
  private readonly line: Buffer;
  private lineLength = 0;
  private remaining = 0;
  private crlfSeen = 0;
  private chunkHash: Hash | undefined;
  private chunkSignature = '';
  private previousSignature: string;
  private trailerSignature: string | undefined;
  private trailerCanonical = '';
  private readonly signed: boolean;
  private readonly withTrailer: boolean;
  /** Running checksums of the decoded data, by the trailer name they are compared with. */
  private readonly checksums = new Map<string, RunningChecksum>();

  constructor(private readonly opts: AwsChunkedOptions) {
    super();
    this.signed = opts.payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
    this.withTrailer = opts.payloadHash.endsWith('-TRAILER');
    if (this.signed && !opts.verified) {
      throw new S3Error('InvalidRequest', `${opts.payloadHash} needs a request signed with AWS Signature Version 4`);
    }
    this.previousSignature = opts.verified?.signature ?? '';
    this.line = Buffer.alloc(opts.maxLineBytes ?? 4096);
    if (this.withTrailer) {
      // Without x-amz-trailer any checksum may arrive, so all are computed; with it, only those named.
      const names = opts.trailerNames ?? CHECKSUM_ALGORITHMS.map((alg) => `x-amz-checksum-${alg}`);
      for (const name of names) {
        const alg = checksumAlgorithmOf(name);
        if (alg) this.checksums.set(name, runningChecksum(alg));
        else if (isChecksumName(name)) throw new S3Error('NotImplemented', `${name} is not supported.`);
      }
    }
  }

  /** Bytes of decoded data so far. */
  get decodedBytes(): number {
    return this.decoded;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.finish();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.phase) {
        case 'data': {
          const piece = buf.subarray(i, i + this.remaining);
          this.chunkHash?.update(piece);
          for (const sum of this.checksums.values()) sum.update(piece);
          this.push(piece);
          this.decoded += piece.length;
          this.remaining -= piece.length;
          i += piece.length;
          if (this.remaining === 0) this.phase = 'data-crlf';
          break;
        }
        case 'data-crlf':
          if (buf[i] !== (this.crlfSeen === 0 ? 0x0d : 0x0a)) {
            throw new S3Error('IncompleteBody', 'An aws-chunked chunk is longer than its declared size.');
          }
          i++;
          if (++this.crlfSeen === 2) this.endChunk();
          break;
        case 'size-line':
        case 'trailer-line':
          i = this.readLine(buf, i);
          break;
        case 'done':
          throw malformed('data after the final chunk.');
      }
    }
  }

  /** Adds the bytes up to the next LF to the line; a complete line is then handled. */
  private readLine(buf: Buffer, from: number): number {
    const lf = buf.indexOf(0x0a, from);
    const end = lf < 0 ? buf.length : lf;
    if (this.lineLength + (end - from) + 1 > this.line.length) {
      throw malformed(`a chunk header or trailer line is longer than ${this.line.length} bytes.`);
    }
    this.lineLength += buf.copy(this.line, this.lineLength, from, end);
    if (lf < 0) return buf.length;
    let length = this.lineLength;
    if (length > 0 && this.line[length - 1] === 0x0d) length--;
    const text = this.line.toString('latin1', 0, length);
    this.lineLength = 0;
    if (this.phase === 'size-line') this.sizeLine(text);
    else this.trailerLine(text);
    return lf + 1;
  }

  private sizeLine(text: string): void {
    const semi = text.indexOf(';');
    const sizeText = semi < 0 ? text : text.slice(0, semi);
    if (!SIZE.test(sizeText)) throw malformed(`"${text.slice(0, 80)}" is not a chunk header.`);
    const size = parseInt(sizeText, 16);
    if (this.signed) {
      const sig = semi < 0 ? undefined : SIGNATURE_EXT.exec(text.slice(semi + 1));
      if (!sig) throw new S3Error('SignatureDoesNotMatch', 'An aws-chunked chunk carries no valid chunk-signature.');
      this.chunkSignature = sig[1]!;
    }
    if (this.opts.decodedLength !== undefined && this.decoded + size > this.opts.decodedLength) {
      throw new S3Error('IncompleteBody', 'The aws-chunked body is longer than x-amz-decoded-content-length.');
    }
    if (size === 0) {
      // The final chunk: signed over no data, then trailers (possibly none) up to an empty line.
      if (this.signed) this.verifyChunk(EMPTY_SHA256);
      this.phase = 'trailer-line';
      return;
    }
    this.remaining = size;
    this.chunkHash = this.signed ? createHash('sha256') : undefined;
    this.phase = 'data';
  }

  private endChunk(): void {
    this.crlfSeen = 0;
    if (this.chunkHash) this.verifyChunk(this.chunkHash.digest('hex'));
    this.chunkHash = undefined;
    this.phase = 'size-line';
  }

  /** Checks a chunk's signature, chained from the one before it (the seed for the first chunk). */
  private verifyChunk(dataSha256: string): void {
    const { signingKey, amzDate, scope } = this.opts.verified!;
    const expected = signHex(signingKey, chunkStringToSign(amzDate, scope, this.previousSignature, dataSha256));
    if (!sameSignature(expected, this.chunkSignature)) {
      throw new S3Error('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
    }
    this.previousSignature = expected;
  }

  private trailerLine(text: string): void {
    if (text === '') {
      this.phase = 'done';
      return;
    }
    if (!this.withTrailer) throw malformed(`trailers need a STREAMING-*-TRAILER x-amz-content-sha256, not ${this.opts.payloadHash}.`);
    const colon = text.indexOf(':');
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (colon < 0 || !TRAILER_NAME.test(name)) throw malformed('a trailer line is not name:value.');
    if (this.trailerSignature !== undefined) throw malformed('a line follows x-amz-trailer-signature.');
    if (name === 'x-amz-trailer-signature') {
      this.trailerSignature = value;
      return;
    }
    if (name in this.trailers || Object.keys(this.trailers).length >= MAX_TRAILERS) throw malformed(`trailer ${name} repeated or too many trailers.`);
    if (this.opts.trailerNames && !this.opts.trailerNames.includes(name)) {
      throw new S3Error('InvalidRequest', `The trailer ${name} was not declared in x-amz-trailer.`);
    }
    this.trailers[name] = value;
    this.trailerCanonical += `${name}:${value}\n`;
  }

  /** The checks that need the whole body: its end, its length, the trailer signature and checksums. */
  private finish(): void {
    // A missing final empty line is forgiven: everything it would close has arrived.
    if (this.phase !== 'done' && !(this.phase === 'trailer-line' && this.lineLength === 0)) {
      throw new S3Error('IncompleteBody', 'The aws-chunked body ended before its final chunk.');
    }
    if (this.opts.decodedLength !== undefined && this.decoded !== this.opts.decodedLength) {
      throw new S3Error('IncompleteBody', `The decoded body has ${this.decoded} bytes, x-amz-decoded-content-length says ${this.opts.decodedLength}.`);
    }
    if (this.signed && this.withTrailer) this.verifyTrailerSignature();
    for (const name of this.opts.trailerNames ?? []) {
      if (!(name in this.trailers)) throw new S3Error('IncompleteBody', `The trailer ${name} declared in x-amz-trailer is missing.`);
    }
    for (const [name, value] of Object.entries(this.trailers)) {
      const alg = checksumAlgorithmOf(name);
      if (!alg) {
        if (isChecksumName(name)) throw new S3Error('NotImplemented', `${name} is not supported.`);
        continue;
      }
      if (!isWellFormedChecksum(alg, value)) throw new S3Error('InvalidRequest', `Value for ${name} trailing header is invalid.`);
      if (this.checksums.get(name)?.base64() !== value) {
        throw new S3Error('BadDigest', `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`);
      }
    }
  }

  /** The trailer signature signs the trailer lines (`name:value\n` each), chained from the final chunk's. */
  private verifyTrailerSignature(): void {
    if (this.trailerSignature === undefined) {
      throw new S3Error('SignatureDoesNotMatch', 'The aws-chunked body has no x-amz-trailer-signature.');
    }
    const { signingKey, amzDate, scope } = this.opts.verified!;
    const toSign = trailerStringToSign(amzDate, scope, this.previousSignature, sha256Hex(this.trailerCanonical));
    if (!sameSignature(signHex(signingKey, toSign), this.trailerSignature)) {
      throw new S3Error('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
    }
  }
}
