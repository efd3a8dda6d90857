// Preloaded (NODE_OPTIONS=--require) into peers that have no listen-address flag (supergateway
// listens on every interface): a listen(port[, cb]) without a host is bound to 127.0.0.1 instead.
const net = require('node:net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) args.splice(1, 0, '127.0.0.1');
  return listen.apply(this, args);
};
