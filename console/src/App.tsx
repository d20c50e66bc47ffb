import { useEffect, useState } from 'react';

import { setUnauthorizedHandler, storeToken, storedToken } from './api';
import { Link } from './components/Link';
import { ExecutionPage } from './pages/ExecutionPage';
import { ExecutionsPage } from './pages/ExecutionsPage';
import { SignIn } from './pages/SignIn';
import { VariablesPage } from './pages/VariablesPage';
import { WorkflowEditor } from './pages/WorkflowEditor';
import { WorkflowList } from './pages/WorkflowList';
import { match, navigate, useLocation } from './router';

export function App() {
  const [token, setToken] = useState(storedToken);
  const [expired, setExpired] = useState(false);
  const { path, params } = useLocation();

  useEffect(() => {
    setUnauthorizedHandler(() => {
      storeToken(null);
      setExpired(true);
      setToken(null);
    });
  }, []);

  if (!token) {
    return (
      <SignIn
        expired={expired}
        onSignedIn={(value) => {
          storeToken(value);
          setExpired(false);
          setToken(value);
        }}
      />
    );
  }

  const signOut = () => {
    storeToken(null);
    setToken(null);
    navigate('/');
  };

  let page;
  let section = 'workflows';
  let params1: Record<string, string> | null;
  if (path === '/' || path === '/workflows') {
    page = <WorkflowList />;
  } else if (path === '/workflows/new') {
    page = <WorkflowEditor id={null} key="new" />;
  } else if ((params1 = match('/workflows/:id', path))) {
    page = <WorkflowEditor id={params1.id} key={params1.id} />;
  } else if (path === '/executions') {
    section = 'executions';
    page = <ExecutionsPage workflowId={params.get('workflowId')} status={params.get('status')} />;
  } else if ((params1 = match('/executions/:id', path))) {
    section = 'executions';
    page = <ExecutionPage id={params1.id} key={params1.id} />;
  } else if (path === '/variables') {
    section = 'variables';
    page = <VariablesPage />;
  } else {
    page = (
      <main className="page">
        <h1>Not found</h1>
        <p>
          Nothing lives at <code>{path}</code>. <Link href="/">Back to the workflows</Link>.
        </p>
      </main>
    );
  }

  return (
    <div className="app">
      <header className="top">
        <Link href="/" className="brand">
          Hookflow
        </Link>
        <nav aria-label="Main">
          <Link href="/" aria-current={section === 'workflows' ? 'page' : undefined}>
            Workflows
          </Link>
          <Link href="/executions" aria-current={section === 'executions' ? 'page' : undefined}>
            Executions
          </Link>
          <Link href="/variables" aria-current={section === 'variables' ? 'page' : undefined}>
            Variables
          </Link>
        </nav>
        <button type="button" className="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      {page}
    </div>
  );
}
