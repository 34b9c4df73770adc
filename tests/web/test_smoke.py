def test_pages_render(shop, browser):
    for url in ["/", "/orders", f"/orders/{shop.order.id}", f"/orders/{shop.order.id}/fulfill",
                "/locations", "/inventory", f"/inventory/{shop.mug.id}", "/sync", "/connections"]:
        r = browser.get(url)
        assert r.status_code == 200, (url, r.get_data(as_text=True)[:3000])
