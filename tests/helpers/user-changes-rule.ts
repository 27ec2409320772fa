// The EventBridge rule's pattern for the user-changes function, as both IaC flavours must render it
// for a pool: the deploy tier checks each flavour against it, the AWS tier routes events with it.

export const userChangesRulePattern = (pool: string) => ({
  source: ['aws.cognito-idp'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['cognito-idp.amazonaws.com'],
    errorCode: [{ exists: false }],
    $or: [
      {
        eventName: [
          'AdminCreateUser',
          'AdminUpdateUserAttributes',
          'AdminDeleteUserAttributes',
          'AdminDisableUser',
          'AdminEnableUser',
          'AdminDeleteUser',
        ],
        requestParameters: { userPoolId: [pool] },
      },
      // Calls made with a user's own token name no pool.
      { eventName: ['UpdateUserAttributes', 'VerifyUserAttribute', 'DeleteUserAttributes', 'DeleteUser'] },
    ],
  },
});
