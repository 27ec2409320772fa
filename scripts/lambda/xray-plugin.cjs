// Bundled in place of the X-Ray SDK's EC2, ECS and Elastic Beanstalk plugins in the Lambda zips
// (AWSXRay.plugins, for AWSXRay.config): they describe the host a segment comes from, and a
// Lambda function's segments come from Lambda. The EC2 one alone loads an IMDS client.
const unavailable = () => {
  throw new Error('The X-Ray SDK host plugins (EC2, ECS, Elastic Beanstalk) are not bundled in cognito-user-sync');
};

module.exports = { getData: unavailable, originName: undefined };
