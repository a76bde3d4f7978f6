/**
 * The console's entry: the top navigation and a router on the client (one HTML shell serves every
 * page; links move with the History API, so the orders stream is not cut by a reload).
 */
import '@picocss/pico/css/pico.min.css';
import './console.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { config } from './api';
import { Link, useLoad } from './components';
import { DeadLettersPage } from './pages/dead-letters';
import { OrderPage } from './pages/order';
import { OrdersPage } from './pages/orders';
import { SimulatorsPage } from './pages/simulators';
import { StoresPage } from './pages/stores';

const PAGES = [
  { href: '/', title: 'Orders' },
  { href: '/stores', title: 'Stores' },
  { href: '/simulators', title: 'Simulators' },
  { href: '/dead-letters', title: 'Dead letters' },
];

function pageFor(pathname: string) {
  const order = /^\/orders\/([^/]+)$/.exec(pathname);
  if (order) return <OrderPage orderId={decodeURIComponent(order[1]!)} />;
  switch (pathname) {
    case '/':
      return <OrdersPage />;
    case '/stores':
      return <StoresPage />;
    case '/simulators':
      return <SimulatorsPage />;
    case '/dead-letters':
      return <DeadLettersPage />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No console page at <code>{pathname}</code>. <Link href="/">Back to the orders</Link>.
          </p>
        </section>
      );
  }
}

const titleOf = (pathname: string) =>
  pathname.startsWith('/orders/')
    ? 'Order'
    : (PAGES.find((page) => page.href === pathname)?.title ?? 'Console');

function Console() {
  const [pathname, setPathname] = useState(location.pathname);
  const { value: settings } = useLoad(config, []);
  useEffect(() => {
    const moved = () => setPathname(location.pathname);
    addEventListener('popstate', moved);
    return () => removeEventListener('popstate', moved);
  }, []);
  useEffect(() => {
    document.title = `${titleOf(pathname)} · order-middleware console`;
  }, [pathname]);
  const section = pathname.startsWith('/orders/') ? '/' : pathname;
  return (
    <>
      <header class="container-fluid top">
        <nav aria-label="Console pages">
          <ul>
            <li>
              <strong>order-middleware</strong>{' '}
              {settings && (
                <small class="muted" data-testid="stage">
                  stage {settings.stage}
                </small>
              )}
            </li>
          </ul>
          <ul>
            {PAGES.map((page) => (
              <li key={page.href}>
                <Link href={page.href} current={section === page.href} testId={`nav-${page.title}`}>
                  {page.title}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main class="container-fluid">{pageFor(pathname)}</main>
    </>
  );
}

render(<Console />, document.getElementById('console')!);
