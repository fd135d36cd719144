// An independent judge of our OTLP/JSON trace exports: the opentelemetry-proto
// definitions, as compiled to code by the OpenTelemetry JavaScript project
// (@opentelemetry/otlp-transformer's generated ExportTraceServiceRequest).
//
// judgeTraceExport(doc) returns the list of problems in one decoded POST body:
//  - the OTLP/JSON mapping itself: trace and span ids as hex of the right length,
//    64-bit integers as decimal strings (or exact numbers), enums as numbers;
//  - the message must pass the generated verify() and survive a protobuf binary
//    round trip (encode, decode, back to JSON) unchanged, so an unknown or misspelt
//    field, a value of the wrong type, an out-of-range enum or an integer that is
//    not one are all reported (each would be lost or altered by a real collector).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { opentelemetry } = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');

export const ExportTraceServiceRequest = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const ID_HEX = { traceId: 32, spanId: 16, parentSpanId: 16 };
const INT64 = new Set(['startTimeUnixNano', 'endTimeUnixNano', 'timeUnixNano', 'intValue']);

// Hex ids to bytes, checking the OTLP/JSON mapping on the way; the rest is copied.
function toProtoInput(value, path, problems) {
  if (Array.isArray(value)) return value.map((v, i) => toProtoInput(v, `${path}[${i}]`, problems));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    const where = `${path}.${key}`;
    if (key in ID_HEX && typeof v === 'string') {
      const empty = key === 'parentSpanId' && v === '';
      if (!empty && !new RegExp(`^[0-9a-fA-F]{${ID_HEX[key]}}$`).test(v)) problems.push(`${where}: not ${ID_HEX[key]} hex digits: ${JSON.stringify(v)}`);
      out[key] = Buffer.from(v, 'hex');
    } else if (INT64.has(key) && !(typeof v === 'string' ? /^-?\d+$/.test(v) : Number.isSafeInteger(v))) {
      problems.push(`${where}: not a 64-bit integer: ${JSON.stringify(v)}`);
      out[key] = v;
    } else {
      out[key] = toProtoInput(v, where, problems);
    }
  }
  return out;
}

// The JSON a protobuf decoder gives back, ids as hex again.
function fromProtoOutput(value) {
  if (Array.isArray(value)) return value.map(fromProtoOutput);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) out[key] = key in ID_HEX ? Buffer.from(v, 'base64').toString('hex') : fromProtoOutput(v);
  return out;
}

// What we sent, in the decoder's spelling: ids in lower case, 64-bit integers as
// strings, and no empty lists (a repeated field with no element is not on the wire).
function normalised(value) {
  if (Array.isArray(value)) return value.map(normalised);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    if (Array.isArray(v) && v.length === 0) continue;
    out[key] = key in ID_HEX ? v.toLowerCase() : INT64.has(key) ? String(v) : normalised(v);
  }
  return out;
}

// The first difference between what was sent and what came back, or null.
function firstDifference(sent, back, path) {
  if (typeof sent !== typeof back || Array.isArray(sent) !== Array.isArray(back)) return `${path}: sent ${JSON.stringify(sent)}, the proto gives ${JSON.stringify(back)}`;
  if (sent === null || typeof sent !== 'object') return sent === back ? null : `${path}: sent ${JSON.stringify(sent)}, the proto gives ${JSON.stringify(back)}`;
  const keys = new Set([...Object.keys(sent), ...Object.keys(back)]);
  for (const key of keys) {
    const where = Array.isArray(sent) ? `${path}[${key}]` : `${path}.${key}`;
    if (!(key in back)) return `${where}: lost in the round trip (not a field of the message, or a value of the wrong type)`;
    if (!(key in sent)) return `${where}: appeared in the round trip as ${JSON.stringify(back[key])}`;
    const d = firstDifference(sent[key], back[key], where);
    if (d) return d;
  }
  return null;
}

export function judgeTraceExport(doc) {
  const problems = [];
  const input = toProtoInput(doc, '$', problems);
  if (problems.length) return problems;
  const message = ExportTraceServiceRequest.fromObject(input);
  const err = ExportTraceServiceRequest.verify(message);
  if (err) return [`verify: ${err}`];
  const wire = ExportTraceServiceRequest.encode(message).finish();
  const decoded = ExportTraceServiceRequest.decode(wire);
  const back = fromProtoOutput(ExportTraceServiceRequest.toObject(decoded, { longs: String, enums: Number, bytes: String }));
  const d = firstDifference(normalised(doc), back, '$');
  return d ? [d] : [];
}
