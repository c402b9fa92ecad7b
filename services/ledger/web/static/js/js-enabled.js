// What GOV.UK Frontend's page template does inline; a static file keeps the CSP strict.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
