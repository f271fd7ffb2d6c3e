import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface, type MessageInterface } from '@asyncapi/parser';
import { MetadataScanner } from '@nestjs/core';
import { MESSAGE_MAPPING_METADATA, MESSAGE_METADATA } from '@nestjs/websockets/constants';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatGateway } from '../src/gateway/chat.gateway';
import { ErrorCode } from '../src/protocol/error-code';
import { SERVER_FRAME_TYPES } from '../src/protocol/frames';
import { AsyncApiController } from '../src/docs/asyncapi.controller';
import { startServer, type TestServer } from './support/test-app';

// The conventions this checks are described at the top of docs/asyncapi.yaml.
const DOCUMENT_PATH = join(__dirname, '..', 'docs', 'asyncapi.yaml');
const text = readFileSync(DOCUMENT_PATH, 'utf8');

/** The events the gateway subscribes to, read from the metadata Nest itself routes by. */
function gatewayEvents(): string[] {
  const prototype = ChatGateway.prototype as unknown as Record<string, object>;
  return new MetadataScanner()
    .getAllMethodNames(prototype)
    .map((method) => prototype[method])
    .filter((handler) => Reflect.getMetadata(MESSAGE_MAPPING_METADATA, handler) === true)
    .map((handler) => Reflect.getMetadata(MESSAGE_METADATA, handler) as string);
}

function messagesOf(document: AsyncAPIDocumentInterface, action: 'send' | 'receive'): MessageInterface[] {
  return document
    .operations()
    .all()
    .filter((operation) => operation.action() === action)
    .flatMap((operation) => operation.messages().all());
}

const nameOf = (message: MessageInterface): string => message.name() ?? `(unnamed ${message.id()})`;
const namesOf = (messages: MessageInterface[]): string[] => [...new Set(messages.map(nameOf))].sort();
const sorted = (values: readonly string[]): string[] => [...values].sort();
// Spectral's diagnostics use their own copy of this enum, so compare by value.
const ERROR_SEVERITY: number = DiagnosticSeverity.Error;

describe('docs/asyncapi.yaml', () => {
  let sut: AsyncAPIDocumentInterface;

  beforeAll(async () => {
    const { document, diagnostics } = await new Parser().parse(text);
    const errors = diagnostics.filter((d) => (d.severity as number) === ERROR_SEVERITY);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    sut = document!;
  });

  it('is an AsyncAPI 3.0.0 document for a ws server with one channel at /', () => {
    expect(sut.version()).toBe('3.0.0');
    expect(sut.servers().all().map((s) => s.protocol())).toEqual(['ws']);
    expect(sut.channels().all().map((c) => c.address())).toEqual(['/']);
  });

  it('describes exactly the inbound events the gateway handles', () => {
    const handled = sorted(gatewayEvents());

    expect(handled.length).toBeGreaterThan(0);
    expect(namesOf(messagesOf(sut, 'receive'))).toEqual(handled);
  });

  it("names each inbound message after its envelope's event (plain-text frames are messages)", () => {
    for (const message of messagesOf(sut, 'receive')) {
      const payload = message.payload();
      if (message.contentType() === 'text/plain') {
        expect({ name: message.name(), type: payload?.type() }).toEqual({ name: 'message', type: 'string' });
      } else {
        expect(payload?.properties()?.event?.const()).toBe(message.name());
      }
    }
  });

  it('describes exactly the frame types the server sends, each named after its type', () => {
    const sent = messagesOf(sut, 'send');

    expect(namesOf(sent)).toEqual(sorted(SERVER_FRAME_TYPES));
    for (const message of sent) {
      expect(message.payload()?.properties()?.type?.const()).toBe(message.name());
    }
  });

  it('lists the ErrorCode values as the error frame codes', () => {
    const errorFrame = messagesOf(sut, 'send').find((m) => m.name() === 'error');

    expect(errorFrame?.payload()?.properties()?.code?.enum()).toEqual(Object.values(ErrorCode));
  });

  describe(AsyncApiController.name, () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startServer();
    });

    afterAll(async () => {
      await server.close();
    });

    it('serves the document at GET /asyncapi.yaml as YAML', async () => {
      const res = await fetch(`${server.httpUrl}/asyncapi.yaml`, { signal: AbortSignal.timeout(5000) });

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^(application|text)\/yaml\b/);
      await expect(res.text()).resolves.toBe(text);
    });
  });
});
