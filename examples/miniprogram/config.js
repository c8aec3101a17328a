// Where the gateway is, and how long the hybrid page waits for it.
module.exports = {
  // the gateway location (docs/GATEWAY.md); make serve listens on 127.0.0.1:8080
  GATEWAY_URL: 'http://127.0.0.1:8080/mphybrid',
  // the H5 page the web-view shows first
  H5_URL: 'https://h5.example.com/index.html',
  // ms before a request is given up (ENETWORK): above the gateway's
  // handler_timeout (30 s), so that a version 1 answer is never cut
  TIMEOUT_MS: 35000,
};
