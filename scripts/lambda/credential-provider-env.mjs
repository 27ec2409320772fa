// Bundled in place of @aws-sdk/credential-provider-node in the Lambda zips only. Lambda always
// hands a function its role's credentials in the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the first link of the SDK's default chain; the
// rest of the chain (profiles, SSO, IMDS, web identity…) can never answer there and costs
// ~90 KiB of bundle and its parse time at every cold start. The command line keeps the full chain.
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init = {}) => fromEnv(init);
