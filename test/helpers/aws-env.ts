/**
 * The environment that points the real AWS SDK clients at a loopback AWS (FakeAws, FakeS3): its endpoint, static
 * credentials, the region, and no instance-metadata lookup (outside AWS it waits for a timeout).
 */
export function sdkEnv(
  endpoint: { readonly AWS_ENDPOINT_URL: string } | { readonly AWS_ENDPOINT_URL_S3: string },
  accessKeyId: string,
  region = 'eu-west-1',
  secretAccessKey = 'secret',
): Record<string, string> {
  return { ...endpoint, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region, AWS_EC2_METADATA_DISABLED: 'true' };
}
