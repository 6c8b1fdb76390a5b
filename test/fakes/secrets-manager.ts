import { createServer } from 'node:http';
import type { Server } from 'node:http';

/** A minimal Secrets Manager endpoint: GetSecretValue for the secrets it is given. */
export interface SecretsManagerFake {
  readonly endpoint: string;
  /** GetSecretValue calls received. */
  calls: number;
  stop(): Promise<void>;
}

/**
 * Answers the AWS JSON 1.1 protocol's `secretsmanager.GetSecretValue` on 127.0.0.1, so code
 * that builds its own SecretsManagerClient (the bundled Lambda) can run against it through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`. Unknown secrets get ResourceNotFoundException.
 */
export const startSecretsManagerFake = async (secrets: Record<string, string>): Promise<SecretsManagerFake> => {
  const state = { calls: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const reply = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      if (target !== 'secretsmanager.GetSecretValue') return reply(400, { __type: 'InvalidAction', message: target });
      state.calls += 1;
      const id = (JSON.parse(body || '{}') as { SecretId?: string }).SecretId ?? '';
      const value = secrets[id];
      if (value === undefined) return reply(400, { __type: 'ResourceNotFoundException', message: 'Secrets Manager can\u2019t find the specified secret.' });
      reply(200, { ARN: id, Name: id.split(':').pop(), SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get calls() {
      return state.calls;
    },
    set calls(n: number) {
      state.calls = n;
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
};
