import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { logger } from '../powertools';

const sfn = new SFNClient({});

/** A token whose task already ended (release raced a timeout, a second release) is not an error. */
function isSettledToken(error: unknown): boolean {
  return error instanceof Error && ['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'].includes(error.name);
}

export async function resumeWorkflow(taskToken: string, output: object): Promise<void> {
  try {
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  } catch (error) {
    if (!isSettledToken(error)) throw error;
    logger.info('workflow task already settled', { error: (error as Error).name });
  }
}

export async function failWorkflowTask(taskToken: string, error: string, cause: string): Promise<void> {
  try {
    await sfn.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  } catch (err) {
    if (!isSettledToken(err)) throw err;
    logger.info('workflow task already settled', { error: (err as Error).name });
  }
}
