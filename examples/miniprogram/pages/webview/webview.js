// The page that shows the H5 page in a <web-view>. It holds the web-view src
// (where the gateway's replies arrive, in the fragment) and the id of this
// web-view session (the key of its outbox on the gateway).
const config = require('../../config.js');
const { newSession } = require('../../lib/gateway.js');

Page({
  data: { src: '' },

  onLoad(options) {
    const self = this;
    newSession((id) => { self.session = id; });
    this.setData({ src: options.url ? decodeURIComponent(options.url) : config.H5_URL });
  },

  // the hybrid page applies the gateway's answer here
  applySrc(src) {
    this.setData({ src });
  },
});
