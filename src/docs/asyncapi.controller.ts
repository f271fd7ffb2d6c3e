import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const ASYNCAPI_CONTENT_TYPE = 'application/yaml; charset=utf-8';

/** The nearest folder at or above `from` holding package.json: the same root from src/ (jest) and dist/. */
export function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json at or above ${from}`);
  }
}

/** Serves the hand-written AsyncAPI document of the WebSocket protocol (docs/asyncapi.yaml). */
@ApiExcludeController()
@Controller()
export class AsyncApiController {
  // Read once at startup: a missing document is a packaging error and should stop the app.
  private readonly document = readFileSync(join(projectRoot(__dirname), 'docs', 'asyncapi.yaml'), 'utf8');

  @Get('asyncapi.yaml')
  @Header('Content-Type', ASYNCAPI_CONTENT_TYPE)
  @Header('Cache-Control', 'no-cache')
  asyncApi(): string {
    return this.document;
  }
}
