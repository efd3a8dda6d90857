// Bundles src/ into dist/index.js. Every package import stays external: pino's worker
// transports and the MCP SDK's subpath exports resolve at run time from node_modules.
const path = require('node:path');

module.exports = (_env, argv) => ({
  target: 'node20',
  mode: argv.mode ?? 'production',
  entry: { index: './src/index.ts' },
  devtool: 'source-map',
  output: {
    path: path.resolve(__dirname, 'dist'),
    filename: '[name].js',
    library: { type: 'commonjs2' },
    clean: true
  },
  resolve: { extensions: ['.ts', '.js'] },
  module: {
    rules: [{ test: /\.ts$/, loader: 'ts-loader', exclude: /node_modules/, options: { configFile: 'tsconfig.build.json' } }]
  },
  externals: [({ request }, callback) => {
    if (request && !request.startsWith('.') && !path.isAbsolute(request)) return callback(null, `commonjs ${request}`);
    callback();
  }],
  optimization: { minimize: false },
  node: { __dirname: false, __filename: false }
});
