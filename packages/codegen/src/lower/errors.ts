/**
 * Lowering errors: the graph is valid IR but not a block shape codegen knows
 * how to map onto the generated kernels. Messages say what, where (node id)
 * and what to change.
 */
export class UnsupportedGraphError extends Error {
  override readonly name = 'UnsupportedGraphError';
  constructor(
    message: string,
    readonly nodeId: string | null = null,
  ) {
    super(nodeId === null ? message : `${message} (node "${nodeId}")`);
  }
}

/** A name from the model that must become a Python identifier is not one. */
export class InvalidPythonNameError extends Error {
  override readonly name = 'InvalidPythonNameError';
}
