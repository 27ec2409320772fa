// Bundled in place of @aws-sdk/client-sqs in the Lambda zips (scripts/package.mjs): the client
// and the commands the functions use, on the small AWS JSON client (../aws-json-client.ts), typed
// with the SDK's own inputs and outputs. As the SDK's, it sends to the queue URL's host, checks
// the MD5 of what it sent, and names errors as the SDK does (SQS answers in AWS JSON 1.0 with the
// codes of its former query protocol). The command line keeps the SDK.
import { createHash } from 'node:crypto';
import type {
  ChangeMessageVisibilityCommandInput,
  ChangeMessageVisibilityCommandOutput,
  SendMessageBatchCommandInput,
  SendMessageBatchCommandOutput,
  SendMessageCommandInput,
  SendMessageCommandOutput,
} from '@aws-sdk/client-sqs';
import { AwsJsonClient, type AwsJsonClientConfig, defineCommand } from '../aws-json-client.js';

// The SDK's names for the error codes SQS gives in x-amzn-query-error (its awsQueryError traits).
const ERROR_NAMES = {
  'AWS.SimpleQueueService.BatchEntryIdsNotDistinct': 'BatchEntryIdsNotDistinct',
  'AWS.SimpleQueueService.BatchRequestTooLong': 'BatchRequestTooLong',
  'AWS.SimpleQueueService.EmptyBatchRequest': 'EmptyBatchRequest',
  'AWS.SimpleQueueService.InvalidBatchEntryId': 'InvalidBatchEntryId',
  'KMS.AccessDeniedException': 'KmsAccessDenied',
  'KMS.DisabledException': 'KmsDisabled',
  'KMS.InvalidKeyUsageException': 'KmsInvalidKeyUsage',
  'KMS.InvalidStateException': 'KmsInvalidState',
  'KMS.NotFoundException': 'KmsNotFound',
  'KMS.OptInRequired': 'KmsOptInRequired',
  'KMS.ThrottlingException': 'KmsThrottled',
  'AWS.SimpleQueueService.MessageNotInflight': 'MessageNotInflight',
  'AWS.SimpleQueueService.PurgeQueueInProgress': 'PurgeQueueInProgress',
  'AWS.SimpleQueueService.QueueDeletedRecently': 'QueueDeletedRecently',
  'AWS.SimpleQueueService.NonExistentQueue': 'QueueDoesNotExist',
  QueueAlreadyExists: 'QueueNameExists',
  'AWS.SimpleQueueService.TooManyEntriesInBatchRequest': 'TooManyEntriesInBatchRequest',
  'AWS.SimpleQueueService.UnsupportedOperation': 'UnsupportedOperation',
};

const SERVICE = {
  clientName: 'SQSClient',
  serviceId: 'SQS',
  endpointPrefix: 'sqs',
  signingName: 'sqs',
  target: 'AmazonSQS',
  jsonVersion: '1.0',
  queryCompatible: true,
  errorNames: ERROR_NAMES,
  queueUrlEndpoint: true,
} as const;

export class SQSClient extends AwsJsonClient {
  constructor(config?: AwsJsonClientConfig) {
    super(SERVICE, config);
  }
}

const md5 = (text: string | undefined) =>
  createHash('md5')
    .update(text ?? '', 'utf8')
    .digest('hex');

export const SendMessageCommand = defineCommand<SendMessageCommandInput, SendMessageCommandOutput>(
  'SendMessage',
  {
    check: (input, output) => {
      if (output.MD5OfMessageBody !== md5(input.MessageBody)) throw new Error('InvalidChecksumError');
    },
  },
);

export const SendMessageBatchCommand = defineCommand<
  SendMessageBatchCommandInput,
  SendMessageBatchCommandOutput
>('SendMessageBatch', {
  check: (input, output) => {
    const sent = new Map((input.Entries ?? []).map((entry) => [entry.Id, entry.MessageBody]));
    const wrong = (output.Successful ?? [])
      .filter((entry) => sent.has(entry.Id) && entry.MD5OfMessageBody !== md5(sent.get(entry.Id)))
      .map((entry) => entry.MessageId);
    if (wrong.length > 0) throw new Error(`Invalid MD5 checksum on messages: ${wrong.join(', ')}`);
  },
});

export const ChangeMessageVisibilityCommand = defineCommand<
  ChangeMessageVisibilityCommandInput,
  ChangeMessageVisibilityCommandOutput
>('ChangeMessageVisibility');
