// The users of a Cognito user pool, page by page (ListUsers, 60 a page), as plain records.

import {
  type CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';

export interface ListedUser {
  username: string;
  status: string | undefined;
  attributes: Record<string, string>;
}

export interface UserPage {
  users: ListedUser[];
  /** The token that fetches the page after this one; undefined on the last page. */
  nextToken: string | undefined;
}

export const PAGE_SIZE = 60;

/** A pool's id starts with its region: eu-west-1_Qx7Lm2Rt9. */
export const regionOfUserPool = (userPoolId: string): string | undefined =>
  /^([a-z]{2}(?:-[a-z]+)+-\d+)_/.exec(userPoolId)?.[1];

export async function* listUserPages(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  startToken?: string,
): AsyncGenerator<UserPage> {
  let token = startToken;
  do {
    const page = await client.send(
      new ListUsersCommand({ UserPoolId: userPoolId, Limit: PAGE_SIZE, PaginationToken: token }),
    );
    token = page.PaginationToken || undefined;
    yield {
      users: (page.Users ?? []).map((user) => ({
        username: user.Username ?? '',
        status: user.UserStatus,
        attributes: Object.fromEntries(
          (user.Attributes ?? []).flatMap(({ Name, Value }) =>
            Name !== undefined && Value !== undefined ? [[Name, Value]] : [],
          ),
        ),
      })),
      nextToken: token,
    };
  } while (token);
}

/** Cognito's estimate of the pool's size, for a progress bar; undefined when unknown. */
export const estimatedUserCount = async (
  client: CognitoIdentityProviderClient,
  userPoolId: string,
): Promise<number | undefined> => {
  try {
    const { UserPool } = await client.send(new DescribeUserPoolCommand({ UserPoolId: userPoolId }));
    return UserPool?.EstimatedNumberOfUsers;
  } catch {
    return undefined;
  }
};
