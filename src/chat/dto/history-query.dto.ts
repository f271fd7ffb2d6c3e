import { PageQueryDto } from '../../messages/page-query.dto';

/** `history` event: `{before?, after?, limit?}`, the same paging rules as GET /api/messages. */
export class HistoryQueryDto extends PageQueryDto {}
