// The built-ins the nodejs22.x runtime has loaded before it imports a handler. Its bootstrap is
// the public Lambda Node.js runtime interface client (github.com/aws/aws-lambda-nodejs-runtime-interface-client):
// src/index.mjs requires its modules before `UserFunction.load` imports the handler, and they
// require node:http (src/RAPIDClient.js, for its RAPID client), node:assert (src/InvokeContext.js),
// node:net (src/ResponseStream.js), node:util (src/Errors.js, src/LogPatch.js), node:path and
// node:fs (src/UserFunction.js). The measured processes require them too (CommonJS, as the
// runtime does), before the timed import: no handler pays for them on Lambda.
export const RUNTIME_BUILTINS = ['node:http', 'node:assert', 'node:net', 'node:util', 'node:path', 'node:fs'];
