/**
 * Lambda entry point. PLACEHOLDER until the durable handler lands (issue 3):
 * the engine is wired in by lambda/handler.ts's final version.
 */
export const handler = async (): Promise<{ ok: boolean }> => {
  throw new Error('handler not implemented yet');
};
