import { Reader, tag, WIRE_LEN } from './wire-format.ts';

const LEN = (field: number) => tag(field, WIRE_LEN);

/**
 * The distinct strings a resource attribute holds across an export request's resources (a string value, or each
 * string of an array value): field 1 of an Export*ServiceRequest is the ResourceLogs/ResourceMetrics, whose field 1
 * is the Resource, whose field 1 its attributes. Reads tags and lengths only, past everything else.
 */
export function resourceStrings(payload: Uint8Array, key: string): Set<string> {
  const found = new Set<string>();
  const r = Reader.create(payload);
  eachField(r, payload.length, 1, (end) =>
    eachField(r, end, 1, (resourceEnd) =>
      eachField(r, resourceEnd, 1, (kvEnd) => {
        let name: string | undefined;
        while (r.pos < kvEnd) {
          const t = r.uint32();
          if (t === LEN(1)) name = r.string();
          else if (t === LEN(2) && name === key) collectStrings(r, r.uint32() + r.pos, found);
          else r.skipType(t & 7);
        }
      }),
    ),
  );
  return found;
}

/** Calls `inside` for each length-delimited field `field` before `end` (reader at its contents), skipping the rest. */
function eachField(r: Reader, end: number, field: number, inside: (end: number) => void): void {
  while (r.pos < end) {
    const t = r.uint32();
    if (t !== LEN(field)) {
      r.skipType(t & 7);
      continue;
    }
    const stop = r.uint32() + r.pos;
    inside(stop);
    r.pos = stop;
  }
}

/** An AnyValue's string (field 1), or the strings of its array value (field 5, ArrayValue.values = 1). */
function collectStrings(r: Reader, end: number, into: Set<string>): void {
  while (r.pos < end) {
    const t = r.uint32();
    if (t === LEN(1)) into.add(r.string());
    else if (t === LEN(5)) eachField(r, r.uint32() + r.pos, 1, (valueEnd) => collectStrings(r, valueEnd, into));
    else r.skipType(t & 7);
  }
}
