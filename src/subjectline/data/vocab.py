"""Vocabularies for the synthetic marketplace: a category tree, brands, product words.

Brand names are invented so that no real trademark appears in generated titles.
Each leaf lists its product nouns, a price range and the attributes its items carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Leaf:
    path: str
    nouns: tuple[str, ...]
    price: tuple[float, float]
    attributes: Mapping[str, tuple[str, ...]]


COLORS = ("Black", "White", "Navy", "Red", "Olive", "Grey", "Beige", "Blue", "Pink", "Green")
MATERIALS = ("Cotton", "Linen", "Wool", "Leather", "Recycled Polyester", "Denim")
FLAVORS = ("Vanilla", "Hazelnut", "Dark Chocolate", "Sea Salt", "Mint", "Berry", "Original")
SCENTS = ("Lavender", "Citrus", "Sandalwood", "Rose", "Fresh Linen", "Unscented")

ROOT_BRANDS: dict[str, tuple[str, ...]] = {
    "Fashion": ("Northwind", "Maison Lark", "Urban Thread", "Cotton & Co", "Fjord", "Alder Lane"),
    "Sports": ("Stridewell", "PeakForm", "Trailhead", "Velora", "Corepulse", "Summit Ridge"),
    "Electronics": ("Voltix", "Auralis", "Nimbus", "Quanta", "Lumio", "Brightwave"),
    "Home & Kitchen": ("Hearthly", "Oak & Ember", "Nestwell", "Copperpot", "Linden Home"),
    "Beauty": ("Glowhaus", "Petal & Pine", "Dermaleaf", "Lune", "Vera Botanica"),
    "Grocery": ("Harvest Table", "Bean Theory", "Crunchwell", "Good Pantry", "Brookside"),
    "Toys & Games": ("Brickwise", "Playfield", "Tinker Fox", "Puzzleworks"),
}

_C = {"color": COLORS}
_CM = {"color": COLORS, "material": MATERIALS}

LEAVES: tuple[Leaf, ...] = (
    Leaf(
        "Fashion > Women > Dresses",
        ("Wrap Dress", "Midi Dress", "Maxi Dress", "Shirt Dress"),
        (35, 140),
        _CM,
    ),
    Leaf(
        "Fashion > Women > Tops", ("Blouse", "Tank Top", "Knit Sweater", "Cardigan"), (20, 90), _CM
    ),
    Leaf(
        "Fashion > Men > Shirts",
        ("Oxford Shirt", "Flannel Shirt", "Linen Shirt", "Polo"),
        (25, 95),
        _CM,
    ),
    Leaf("Fashion > Men > Jeans", ("Slim Jeans", "Straight Jeans", "Relaxed Jeans"), (40, 120), _C),
    Leaf(
        "Fashion > Shoes > Sneakers",
        ("Low-Top Sneakers", "Canvas Sneakers", "Leather Sneakers"),
        (45, 160),
        _C,
    ),
    Leaf(
        "Fashion > Shoes > Boots", ("Chelsea Boots", "Ankle Boots", "Hiking Boots"), (70, 220), _C
    ),
    Leaf(
        "Fashion > Accessories > Bags",
        ("Tote Bag", "Crossbody Bag", "Backpack", "Weekender"),
        (30, 180),
        _CM,
    ),
    Leaf(
        "Fashion > Accessories > Watches",
        ("Field Watch", "Chronograph", "Minimalist Watch"),
        (60, 300),
        _C,
    ),
    Leaf(
        "Sports > Running > Shoes",
        ("Running Shoes", "Trail Running Shoes", "Racing Flats"),
        (70, 190),
        _C,
    ),
    Leaf(
        "Sports > Running > Apparel",
        ("Running Shorts", "Running Tee", "Running Jacket", "Running Tights"),
        (20, 110),
        _C,
    ),
    Leaf(
        "Sports > Fitness > Yoga",
        ("Yoga Mat", "Yoga Block", "Yoga Strap", "Yoga Leggings"),
        (12, 90),
        _C,
    ),
    Leaf(
        "Sports > Fitness > Strength",
        ("Dumbbell Set", "Kettlebell", "Resistance Bands", "Pull-Up Bar"),
        (15, 250),
        {},
    ),
    Leaf(
        "Sports > Cycling > Gear",
        ("Bike Helmet", "Cycling Gloves", "Bike Light", "Water Bottle Cage"),
        (10, 140),
        _C,
    ),
    Leaf(
        "Sports > Outdoor > Camping",
        ("Camping Tent", "Sleeping Bag", "Camp Stove", "Headlamp"),
        (20, 350),
        _C,
    ),
    Leaf(
        "Electronics > Audio > Headphones",
        ("Wireless Earbuds", "Over-Ear Headphones", "Sport Earbuds"),
        (25, 350),
        _C,
    ),
    Leaf(
        "Electronics > Audio > Speakers",
        ("Bluetooth Speaker", "Smart Speaker", "Soundbar"),
        (30, 400),
        _C,
    ),
    Leaf(
        "Electronics > Phones > Accessories",
        ("Phone Case", "Fast Charger", "Power Bank", "Screen Protector"),
        (8, 70),
        _C,
    ),
    Leaf(
        "Electronics > Computers > Laptops",
        ("Ultrabook", "14-inch Laptop", "2-in-1 Laptop"),
        (500, 1900),
        {},
    ),
    Leaf(
        "Electronics > Computers > Peripherals",
        ("Mechanical Keyboard", "Wireless Mouse", "USB-C Hub", "Webcam"),
        (20, 180),
        _C,
    ),
    Leaf(
        "Electronics > Smart Home > Lighting",
        ("Smart Bulb", "Light Strip", "Smart Plug"),
        (10, 80),
        {},
    ),
    Leaf(
        "Home & Kitchen > Kitchen > Cookware",
        ("Skillet", "Dutch Oven", "Saucepan Set", "Chef's Knife"),
        (25, 260),
        {"material": ("Cast Iron", "Stainless Steel", "Nonstick", "Copper")},
    ),
    Leaf(
        "Home & Kitchen > Kitchen > Coffee",
        ("Pour-Over Kettle", "French Press", "Coffee Grinder", "Espresso Cups"),
        (15, 200),
        _C,
    ),
    Leaf(
        "Home & Kitchen > Bedding > Sheets",
        ("Sheet Set", "Duvet Cover", "Pillowcases", "Throw Blanket"),
        (25, 180),
        _CM,
    ),
    Leaf(
        "Home & Kitchen > Decor > Lighting",
        ("Table Lamp", "Floor Lamp", "Pendant Light"),
        (30, 250),
        _C,
    ),
    Leaf(
        "Beauty > Skincare > Moisturizers",
        ("Face Cream", "Night Cream", "Hydrating Gel"),
        (12, 80),
        {"scent": SCENTS},
    ),
    Leaf(
        "Beauty > Skincare > Cleansers",
        ("Foaming Cleanser", "Cleansing Balm", "Micellar Water"),
        (8, 45),
        {"scent": SCENTS},
    ),
    Leaf(
        "Beauty > Makeup > Lips",
        ("Lipstick", "Lip Gloss", "Lip Balm"),
        (6, 40),
        {"color": ("Nude", "Berry", "Coral", "Red")},
    ),
    Leaf(
        "Beauty > Fragrance",
        ("Eau de Parfum", "Body Mist", "Scented Candle"),
        (18, 140),
        {"scent": SCENTS},
    ),
    Leaf(
        "Grocery > Coffee & Tea > Coffee",
        ("Whole Bean Coffee", "Ground Coffee", "Cold Brew Pack"),
        (7, 30),
        {"flavor": FLAVORS},
    ),
    Leaf(
        "Grocery > Coffee & Tea > Tea",
        ("Green Tea", "Herbal Tea", "Chai Blend"),
        (4, 20),
        {"flavor": FLAVORS},
    ),
    Leaf(
        "Grocery > Snacks",
        ("Granola Bars", "Trail Mix", "Kettle Chips", "Protein Bites"),
        (3, 15),
        {"flavor": FLAVORS},
    ),
    Leaf("Grocery > Pantry", ("Olive Oil", "Pasta Sauce", "Honey", "Nut Butter"), (4, 25), {}),
    Leaf(
        "Toys & Games > Building Sets", ("Building Set", "Robot Kit", "Marble Run"), (15, 150), {}
    ),
    Leaf(
        "Toys & Games > Board Games",
        ("Strategy Game", "Party Game", "Family Board Game"),
        (15, 70),
        {},
    ),
    Leaf("Toys & Games > Puzzles", ("1000-Piece Puzzle", "3D Puzzle", "Puzzle Box"), (10, 45), {}),
)

ADJECTIVES = (
    "Classic",
    "Essential",
    "Everyday",
    "Lightweight",
    "Premium",
    "Compact",
    "Organic",
    "Ultra",
    "Pro",
    "Heritage",
    "Modern",
    "Soft",
    "Eco",
    "Signature",
    "Original",
)

FIRST_NAMES = (
    "Ava",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Ethan",
    "Sofia",
    "Lucas",
    "Emma",
    "Mateo",
    "Chloe",
    "Aiden",
    "Zoe",
    "Leo",
    "Nora",
    "Omar",
    "Priya",
    "Kenji",
    "Ines",
    "Tomas",
    "Hana",
    "Samir",
    "Grace",
    "Diego",
    "Amara",
    "Felix",
    "Lena",
    "Ravi",
    "Julia",
    "Theo",
)

LOCALES = ("en_US", "en_GB", "en_CA")
LOCALE_WEIGHTS = (0.7, 0.2, 0.1)


def roots() -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for leaf in LEAVES:
        seen.setdefault(leaf.path.split(" > ")[0], None)
    return tuple(seen)
