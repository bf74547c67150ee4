// Bootstrap for the GraphiQL page. It lives in a file rather than inline in
// the HTML so the page's Content-Security-Policy can forbid inline scripts
// entirely; its settings arrive through data- attributes, which the Go side
// writes with html/template so they cannot break out of the attribute.
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  var data = root.dataset;

  var props = {
    fetcher: GraphiQL.createFetcher({ url: data.endpoint }),
    defaultHeaders: data.defaultHeaders,
    // Open on the headers tab: the first thing a user has to do is paste
    // their key there.
    defaultEditorToolsVisibility: 'headers',
    isHeadersEditorEnabled: true,
    // The headers hold an ADMIN key; keep it out of localStorage so it does
    // not outlive the tab on a shared machine.
    shouldPersistHeaders: false
  };
  // Absent attribute means "no preference": let GraphiQL show its own
  // welcome text instead of an empty editor.
  if (data.defaultQuery !== undefined) {
    props.defaultQuery = data.defaultQuery;
  }

  root.textContent = '';
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
