import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsOptional, Min } from 'class-validator';
import { IsRoomName } from './validators';

export const MAX_RESUME_ROOMS = 50;

/** The query string carries text: "12" -> 12, "general,eng" -> ["general", "eng"]. */
const toInteger = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
const toList = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.split(',') : value);

/**
 * `resume` event, or `?since=&rooms=` on the connection URL: replay every message of `rooms`
 * (default: general when connecting, the rooms you are in otherwise) with an id above `since`.
 */
export class ResumeDto {
  @Transform(toInteger)
  @Min(0)
  @IsInt()
  since!: number;

  @IsOptional()
  @Transform(toList)
  @IsRoomName({ each: true })
  @ArrayMaxSize(MAX_RESUME_ROOMS)
  @ArrayMinSize(1)
  @IsArray()
  rooms?: string[];
}
