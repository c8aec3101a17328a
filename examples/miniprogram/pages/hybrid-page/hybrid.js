// The hybrid page: the H5 page navigates here with ?cmd=<command>. It
// forwards the command and the web-view src to the gateway, applies the new
// src to the web-view page, and navigates back.
const { forward, errorSrc } = require('../../lib/gateway.js');

Page({
  onLoad(options) {
    const pages = getCurrentPages();
    const webview = pages.length >= 2 ? pages[pages.length - 2] : null;
    if (!webview || typeof webview.applySrc !== 'function') {
      wx.navigateBack();
      return;
    }
    if (!webview.session) {
      webview.applySrc(errorSrc(webview.data.src, options.cmd, 'ENETWORK', 'the web-view session is not ready'));
      wx.navigateBack();
      return;
    }
    forward(options.cmd, webview.data.src, webview.session, (src, back) => {
      webview.applySrc(src);
      if (back) wx.navigateBack();
    });
  },
});
