// The floor the shipped post-confirmation handler is measured against: a bare handler that makes
// the same request body from the event and POSTs it once with fetch. No secret (the key comes
// from the environment), no retries, no deadline, no logs, no metrics, no tracing. Bundled by
// scripts/package.mjs's own packageFunction, exactly as the shipped functions are.

const url = process.env.USER_SERVICE_URL;
const apiKey = process.env.USER_SERVICE_API_KEY ?? '';

export const handler = async (event) => {
  const attributes = event.request.userAttributes;
  const fullName =
    attributes.name ?? ([attributes.given_name, attributes.family_name].filter(Boolean).join(' ') || null);
  const body = JSON.stringify({
    cognitoSub: attributes.sub,
    email: attributes.email ?? null,
    fullName,
    status: 'ACTIVE',
    role: 'USER',
    createdBy: attributes.sub,
    updatedBy: attributes.sub,
  });
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'idempotency-key': attributes.sub, 'x-api-key': apiKey },
  });
  // Read to the end, so the keep-alive connection goes back to the pool.
  await response.arrayBuffer();
  return event;
};
