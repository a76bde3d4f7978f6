/**
 * STS on the edge port: `GetCallerIdentity`, the call every "am I talking to the right account?"
 * check makes, in STS's query protocol and XML. Every local key belongs to the account's root, as
 * LocalStack answers for its test credentials. Other STS actions answer a clear error naming them.
 */
import { LOCAL_ACCOUNT_ID, LOCAL_CALLER_ARN } from './sigv4';

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export interface StsAnswer {
  status: number;
  body: string;
  action: string;
}

export function handleStsQuery(params: URLSearchParams, requestId: string): StsAnswer {
  const action = params.get('Action') ?? '';
  if (action === 'GetCallerIdentity') {
    return {
      status: 200,
      action,
      body:
        `<GetCallerIdentityResponse xmlns="${XMLNS}">` +
        '<GetCallerIdentityResult>' +
        `<Arn>${LOCAL_CALLER_ARN}</Arn>` +
        `<UserId>${LOCAL_ACCOUNT_ID}</UserId>` +
        `<Account>${LOCAL_ACCOUNT_ID}</Account>` +
        '</GetCallerIdentityResult>' +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
        '</GetCallerIdentityResponse>',
    };
  }
  const message = action
    ? `STS ${action} is not emulated by the local cloud (it answers GetCallerIdentity only)`
    : 'STS request without an Action';
  const status = action ? 501 : 400;
  return {
    status,
    action: action || 'unknown',
    body: queryErrorXml(XMLNS, action ? 'NotImplemented' : 'MissingAction', message, requestId, status),
  };
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The error shape of the query protocol (STS, SQS, CloudFormation, IAM…), which their clients parse. */
export function queryErrorXml(
  xmlns: string,
  code: string,
  message: string,
  requestId: string,
  status: number,
): string {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return (
    `<ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
