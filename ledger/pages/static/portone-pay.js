// The PortOne payment page: open PortOne's payment window through its browser SDK
// (loaded by the page from PORTONE_BROWSER_SDK_URL), then ask our server to confirm the
// payment with PortOne. The server credits only what PortOne's own record says is paid.
(() => {
  const box = document.getElementById("portone-payment");
  if (!box) return;
  const button = document.getElementById("portone-pay");
  const error = document.getElementById("portone-error");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const fail = (message) => {
    error.textContent = message;
    error.hidden = false;
    button.disabled = false;
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    error.hidden = true;
    if (!window.PortOne) return fail("PortOne's payment window could not be loaded.");
    const payment = box.dataset;
    let answer;
    try {
      answer = await window.PortOne.requestPayment({
        storeId: payment.storeId,
        channelKey: payment.channelKey,
        paymentId: payment.paymentId,
        orderName: payment.orderName,
        totalAmount: Number(payment.totalAmount),
        currency: payment.currency,
        payMethod: "CARD",
        // On phones the window replaces the page, then comes back here.
        redirectUrl: payment.redirectUrl,
      });
    } catch (e) {
      return fail(String(e));
    }
    if (!answer || answer.code !== undefined) return fail(answer?.message || "The payment did not go through.");
    await fetch(payment.confirmUrl, { method: "POST", headers: { "X-CSRF-Token": csrf } });
    window.location.assign(payment.redirectUrl);
  });
})();
