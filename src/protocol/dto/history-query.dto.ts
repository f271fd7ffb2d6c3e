import { IsOptional } from 'class-validator';
import { PageQueryDto } from './page-query.dto';
import { IsRoomName } from './validators';

/** `history` event: `{room?, before?, after?, limit?}`, the same paging rules as GET /api/messages. */
export class HistoryQueryDto extends PageQueryDto {
  /** Defaults to `general`. */
  @IsOptional()
  @IsRoomName()
  room?: string;
}
