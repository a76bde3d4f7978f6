/** An AWS service error: the edge turns it into the protocol's error shape (code, message, HTTP status). */
export class AwsError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/** A local service's API: AWS operation name → handler taking the request shape, throwing AwsError. */
// biome-ignore lint/suspicious/noExplicitAny: request/response shapes are the AWS wire shapes, checked by each handler
export type ServiceApi = Record<string, (input: any) => Promise<any>>;
