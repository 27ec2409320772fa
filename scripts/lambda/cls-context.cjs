// Bundled in place of cls-hooked/context, the context store of the X-Ray SDK, in the Lambda zips.
// cls-hooked keeps each segment's context with a JavaScript async hook that runs on every
// promise and callback the function makes (init, before, after, destroy): about a third of the
// handler's warm cost. This is the same Namespace API on Node's AsyncLocalStorage, which carries
// the context itself. Only what the X-Ray SDK calls is here.
const { AsyncLocalStorage } = require('node:async_hooks');

const namespaces = new Map();

class Namespace {
  constructor(name) {
    this.name = name;
    this.storage = new AsyncLocalStorage();
    // cls-hooked's `enter` outside any `run` sets a context for everything that follows; the
    // X-Ray SDK does that once in Lambda, at load, with the facade segment's context.
    this.entered = null;
  }

  get active() {
    return this.storage.getStore() ?? this.entered;
  }

  createContext() {
    return Object.create(this.active ?? Object.prototype);
  }

  set(key, value) {
    const context = this.active;
    if (!context) throw new Error('No context available. ns.run() or ns.bind() must be called first.');
    context[key] = value;
    return value;
  }

  get(key) {
    return this.active?.[key];
  }

  enter(context) {
    this.entered = context;
  }

  exit(context) {
    if (this.entered === context) this.entered = Object.getPrototypeOf(context) ?? null;
  }

  run(fn) {
    const context = this.createContext();
    this.storage.run(context, () => fn(context));
    return context;
  }

  runAndReturn(fn) {
    const context = this.createContext();
    return this.storage.run(context, () => fn(context));
  }

  bind(fn, context) {
    const bound = context ?? this.active ?? this.createContext();
    const storage = this.storage;
    return function boundToContext(...args) {
      return storage.run(bound, () => fn.apply(this, args));
    };
  }
}

module.exports = {
  getNamespace: (name) => namespaces.get(name),
  createNamespace: (name) => {
    const namespace = new Namespace(name);
    namespaces.set(name, namespace);
    return namespace;
  },
  destroyNamespace: (name) => {
    namespaces.delete(name);
  },
  reset: () => namespaces.clear(),
  ERROR_SYMBOL: 'error@context',
};
