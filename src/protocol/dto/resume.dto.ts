import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional } from 'class-validator';
import { IsIntegerIn, IsRoomName } from './validators';

export const MAX_RESUME_ROOMS = 50;

/** The query string carries text: "general,eng" -> ["general", "eng"]. */
const toList = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.split(',') : value);

/**
 * `resume` event, or `?since=&rooms=` on the connection URL: replay every message of `rooms`
 * (default: general when connecting, the rooms you are in otherwise) with an id above `since`.
 */
export class ResumeDto {
  @IsIntegerIn(0)
  since!: number;

  @IsOptional()
  @Transform(toList)
  @IsRoomName({ each: true })
  @ArrayMaxSize(MAX_RESUME_ROOMS)
  @ArrayMinSize(1)
  @IsArray()
  rooms?: string[];
}
