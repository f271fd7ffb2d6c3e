import { BadRequestException, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { FastHttpValidationPipe, HttpValidationPipe } from './http-validation.pipe';
import { ListMessagesQueryDto, parseListMessagesQuery } from '../protocol/dto/page-query.dto';

const QUERY: ArgumentMetadata = { type: 'query', metatype: ListMessagesQueryDto };

/** GET /api/messages query strings, validated by class-validator alone and with the controller's fast path. */
describe.each([
  [HttpValidationPipe.name, () => new HttpValidationPipe()],
  [FastHttpValidationPipe.name, () => new FastHttpValidationPipe(parseListMessagesQuery)],
])(`${ListMessagesQueryDto.name} through %s`, (_name, createPipe: () => PipeTransform) => {
  let pipe: PipeTransform;
  const sut = {
    // The fast path answers synchronously.
    transform: (query: unknown, metadata: ArgumentMetadata): Promise<unknown> => Promise.resolve(pipe.transform(query, metadata)),
  };

  beforeEach(() => {
    pipe = createPipe();
  });

  async function badRequestBody(query: Record<string, unknown>): Promise<unknown> {
    const error: unknown = await sut.transform(query, QUERY).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BadRequestException);
    return (error as BadRequestException).getResponse();
  }

  it('accepts an empty query', async () => {
    const dto: unknown = await sut.transform({}, QUERY);
    expect(dto).toBeInstanceOf(ListMessagesQueryDto);
    expect(dto).toEqual({});
  });

  it('converts the numeric query-string values to integers', async () => {
    await expect(sut.transform({ room: 'general', limit: '200', before: '42', after: '1' }, QUERY)).resolves.toEqual({
      room: 'general',
      limit: 200,
      before: 42,
      after: 1,
    });
  });

  it('accepts a 64-character room', async () => {
    await expect(sut.transform({ room: 'r'.repeat(64) }, QUERY)).resolves.toEqual({ room: 'r'.repeat(64) });
  });

  it.each([
    [{ limit: '0' }, 'limit must not be less than 1', ['limit']],
    [{ limit: '201' }, 'limit must not be greater than 200', ['limit']],
    [{ before: '0' }, 'before must not be less than 1', ['before']],
    [{ after: '-3' }, 'after must not be less than 0', ['after']],
    [{ after: '9007199254740992' }, 'after must not be greater than 9007199254740991', ['after']],
    [{ room: 'r'.repeat(65) }, 'room must be shorter than or equal to 64 characters', ['room']],
    [{ room: '' }, 'room must be longer than or equal to 1 characters', ['room']],
  ])('answers %j with a 400 naming the parameter', async (query, message, parameters) => {
    await expect(badRequestBody(query)).resolves.toEqual({ statusCode: 400, error: 'Bad Request', message, parameters });
  });

  it.each(['abc', '1.5', '', '1e2', '0x10'])('rejects limit=%j as not an integer', async (limit) => {
    const response = await badRequestBody({ limit });
    expect(response).toMatchObject({ statusCode: 400, parameters: ['limit'] });
    expect((response as { message: string }).message).toContain('limit must be an integer number');
  });

  it('rejects a repeated parameter (an array)', async () => {
    await expect(badRequestBody({ limit: ['10', '20'] })).resolves.toMatchObject({ parameters: ['limit'] });
  });

  it('rejects unknown parameters by name', async () => {
    await expect(badRequestBody({ limit: '5', sort: 'desc' })).resolves.toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'property sort should not exist',
      parameters: ['sort'],
    });
  });

  it('names every bad parameter', async () => {
    await expect(badRequestBody({ limit: '0', before: '0' })).resolves.toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'before must not be less than 1; limit must not be less than 1',
      parameters: ['before', 'limit'],
    });
  });
});

describe(parseListMessagesQuery.name, () => {
  const reference = new HttpValidationPipe();

  it.each([
    {},
    { limit: '50', before: '1000' },
    { limit: '1' },
    { limit: '200' },
    { limit: '0050', after: '7', before: '9007199254740991' },
    { after: '0' },
    { room: 'général-2.x_', after: '3' },
    { room: 'r'.repeat(64) },
    { room: '-leading' },
  ])('returns what class-validator returns for the valid %j', async (query) => {
    const fast = parseListMessagesQuery(query);
    expect(fast).toBeInstanceOf(ListMessagesQueryDto);
    expect(fast).toEqual(await reference.transform(query, QUERY));
  });

  it.each([
    { limit: '0' },
    { limit: '201' },
    { limit: '-1' },
    { limit: '+5' },
    { limit: ' 5' },
    { limit: '1e2' },
    { limit: '12345678901234567' },
    { limit: ['1', '2'] },
    { before: '0' },
    { before: '9007199254740992' },
    { after: '-1' },
    { room: '' },
    { room: 'r'.repeat(65) },
    { room: 'two words' },
    { room: '😀' },
    { room: 'a\uFE0F' }, // an invisible variation selector: room names refuse them, as nicknames do
    { room: ['a', 'b'] },
    { sort: 'desc' },
  ])('leaves the invalid %j to class-validator', async (query) => {
    expect(parseListMessagesQuery(query)).toBeUndefined();
    await expect(reference.transform(query, QUERY)).rejects.toBeInstanceOf(BadRequestException);
  });
});
