// A binarizer module for the CLI tests, given as `--binarizer <this file>`: events and state are JSON, and
// decoding marks them so that the test can tell the module was used.
const text = new TextDecoder();
const json = (bytes) => JSON.parse(text.decode(bytes));

export const binarizer = {
  contentType: "application/json",
  evtToBytes: (evt) => new TextEncoder().encode(JSON.stringify(evt)),
  evtFromBytes: (bytes) => ({ decodedBy: "module", ...json(bytes) }),
  stateToBytes: (state) => new TextEncoder().encode(JSON.stringify(state)),
  stateFromBytes: (bytes, version) => ({ decodedBy: "module", version, ...json(bytes) }),
};
