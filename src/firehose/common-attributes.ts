/**
 * X-Amz-Firehose-Common-Attributes: `{"commonAttributes": {"name": "value", …}}`, the "parameters"
 * of the HTTP endpoint destination. Returns the map, or an error text when the header is unreadable
 * (the request is still served; the header is ignored).
 */
export function parseCommonAttributes(header: string | undefined): { attributes: Record<string, string>; error?: string } {
  if (header === undefined || header.trim() === '') return { attributes: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch (err) {
    return { attributes: {}, error: `X-Amz-Firehose-Common-Attributes is not JSON: ${(err as Error).message}` };
  }
  const inner = (parsed as { commonAttributes?: unknown } | null)?.commonAttributes;
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
    return { attributes: {}, error: 'X-Amz-Firehose-Common-Attributes has no "commonAttributes" object' };
  }
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(inner)) {
    if (key === '') continue;
    attributes[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return { attributes };
}

/** `arn:aws:firehose:<region>:<account>:deliverystream/<name>` → its region and account. */
export function parseSourceArn(arn: string | undefined): { region: string; account: string } | undefined {
  const m = arn === undefined ? null : /^arn:aws[a-z-]*:firehose:([a-z0-9-]+):(\d+):deliverystream\/.+$/.exec(arn);
  return m ? { region: m[1]!, account: m[2]! } : undefined;
}
