CREATE TABLE orders (id bigint PRIMARY KEY, item text NOT NULL, price numeric(10,2));
INSERT INTO orders VALUES (1, 'book', 12.90), (2, 'lamp', 24.00);
