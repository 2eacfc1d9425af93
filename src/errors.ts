/** Why a call was refused; every XentError is thrown before anything is written. */
export type XentErrorCode =
  | 'SHAPE_MISMATCH'
  | 'TARGET_OUT_OF_RANGE'
  | 'BAD_OPTION'
  | 'OUT_OF_MEMORY'
  | 'DISPOSED'
  | 'FREED';

export class XentError extends Error {
  readonly code: XentErrorCode;

  constructor(code: XentErrorCode, message: string) {
    super(message);
    this.name = 'XentError';
    this.code = code;
  }
}
