import { IsChatText, IsIntegerIn } from './validators';

/** `edit`: `{id, message}`; the new text follows the rules of `message`. Also PATCH /api/messages/:id's body (`message`). */
export class EditMessageDto {
  @IsIntegerIn(1)
  id!: number;

  @IsChatText()
  message!: string;
}

/** PATCH /api/messages/:id: `{message}`. */
export class EditMessageBodyDto {
  @IsChatText()
  message!: string;
}

/** `delete`: `{id}`. */
export class DeleteMessageDto {
  @IsIntegerIn(1)
  id!: number;
}

/** `:id` of PATCH and DELETE /api/messages/:id. */
export class MessageIdParamDto {
  @IsIntegerIn(1)
  id!: number;
}
