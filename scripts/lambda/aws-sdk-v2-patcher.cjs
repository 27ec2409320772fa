// Bundled in place of aws-xray-sdk-core's AWS SDK v2 patcher in the Lambda zips. The functions use
// the AWS SDK v3, traced through the Powertools tracer's captureAWSv3Client; the v2 patcher is
// dead code here, and it drags semver (28 KiB) into every cold start.
const unavailable = () => {
  throw new Error('captureAWS (AWS SDK v2) is not bundled in cognito-user-sync; use captureAWSv3Client');
};

module.exports = { captureAWS: unavailable, captureAWSClient: unavailable };
